"""The envelope's compiled check (jsonschema-rs) decides only what jsonschema would accept.

`envelope.fits` answers True for an envelope only if jsonschema finds no error in it;
everything else goes to jsonschema, which decides and names the errors. So the set of
accepted envelopes is jsonschema's, whatever the compiled check makes of an odd value.
"""

import json
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from actions.contract import envelope
from actions.contract.errors import ActionError
from tests.corpora import attack_keys, attacks

BASE = {
    "api": "1",
    "id": "6f1c2f1e-0c43-4c57-9d43-9a1fd3f3b1a1",
    "action": "analytics.cta.record",
    "tenant": "acme",
    "payload": {"surface": "web", "cta_id": "signup"},
}

# Values at the edges of each field's rule, and values of the wrong kind.
ODD = [
    None, True, False, 0, 1, -1, 1.0, 1.5, 10**30, -(10**30), float("nan"), float("inf"),
    "", "1", "acme", "acme\n", "\nacme", "ac me", "ACME", "a" * 40, "a" * 41, "a.b", "a.b\n",
    "a..b", "é.b", "\ud800", "\x00", "١٢٣", BASE["id"], BASE["id"] + "\n", BASE["id"].upper(),
    "{" + BASE["id"] + "}", [], [1], {}, {"a": 1}, {1: 2}, (), b"acme", "x" * 129, "é" * 128,
]  # fmt: skip
FIELDS = ["api", "id", "action", "tenant", "payload", "version", "meta", "extra"]
META = ["correlation_id", "deadline_ms", "other"]


def _jsonschema_accepts(value) -> bool:
    return not list(envelope.validator("request").iter_errors(value))


def _agrees(value) -> None:
    if envelope.fits("request", value):
        assert _jsonschema_accepts(value), repr(value)[:300]


def test_a_good_envelope_fits_without_jsonschema():
    assert envelope.fits("request", BASE)
    assert envelope.fits("request", {**BASE, "version": 1, "meta": {"correlation_id": "a-1"}})


def test_every_odd_value_of_every_field():
    for field in FIELDS:
        for value in ODD:
            _agrees({**BASE, field: value})
        _agrees({k: v for k, v in BASE.items() if k != field})
    for key in META:
        for value in ODD:
            _agrees({**BASE, "meta": {key: value}})


def test_the_hostile_corpora_in_every_field():
    for values in [*attacks().values(), *attack_keys().values()]:
        for text in values:
            for field in ("id", "action", "tenant", "api"):
                _agrees({**BASE, field: text})
            _agrees({**BASE, "meta": {"correlation_id": text}})
            _agrees({**BASE, "payload": {text: text}})


def test_what_jsonschema_alone_accepts_is_still_accepted():
    """Python's `$` also matches before a final newline, the compiled check's does not:
    such an envelope is not refused by the schema (the pipeline decides later, as before)."""
    odd = {**BASE, "tenant": "acme\n"}
    assert not envelope.fits("request", odd) and _jsonschema_accepts(odd)
    assert envelope.parse_request(json.dumps(odd)) == odd


def test_a_refusal_still_names_its_errors():
    bad = {**BASE, "version": 0, "extra": 1}
    try:
        envelope.parse_request(json.dumps(bad))
    except ActionError as err:
        paths = [e["path"] for e in err.details["errors"]]
        assert paths == ["(envelope)", "version"], err.details
    else:
        raise AssertionError("accepted")


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=50),
    st.sampled_from(["1", "acme", "acme\n", "a.b", BASE["id"], str(uuid.uuid4()) + "\n"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(
    over=st.dictionaries(st.sampled_from(FIELDS), _values, max_size=4),
    meta=st.dictionaries(st.sampled_from(META), _values, max_size=2),
    drop=st.lists(st.sampled_from(FIELDS), max_size=2),
)
def test_generated_envelopes(over, meta, drop):
    value = {**BASE, **over}
    if meta:
        value["meta"] = meta
    for field in drop:
        value.pop(field, None)
    _agrees(value)


def _nested(depth: int, leaf=None) -> dict:
    """An envelope whose deepest value is at `depth` (the envelope itself is level 1): an
    empty object, or the scalar `leaf` inside the innermost object (a leaf is a level of
    its own, so that body has one bracket fewer than its depth)."""
    value: dict = {} if leaf is None else {"a": leaf}
    for _ in range(depth - (2 if leaf is None else 3)):
        value = {"a": value}
    return {**BASE, "payload": value}


def _refused(body: str | bytes | dict) -> bool:
    try:
        envelope.parse_request(body)
    except ActionError as err:
        assert "nested deeper" in err.message
        return True
    return False


def test_the_nesting_limit_whatever_the_count_of_brackets():
    """The walk is skipped only for a body with fewer `{` and `[` than the limit."""
    limit = envelope.MAX_DEPTH
    for leaf in (None, 1):
        deepest = _nested(limit, leaf)
        assert envelope._depth(deepest, 99) == limit
        assert envelope.parse_request(json.dumps(deepest)) == deepest
        too_deep = json.dumps(_nested(limit + 1, leaf))
        assert envelope._depth(json.loads(too_deep), 99) == limit + 1
        assert _refused(too_deep) and _refused(too_deep.encode())
    # A decoded body (the AMQP ingress may hand one) is always walked.
    assert _refused(_nested(limit + 1, 1)) and _refused(_nested(limit + 1))
    # The scalar leaf one level too deep has exactly MAX_DEPTH brackets.
    assert envelope._openers(json.dumps(_nested(limit + 1, 1))) == limit
    # Brackets in strings make the body count more than its depth: walked, and accepted.
    shallow = {**BASE, "payload": {"text": "{[" * 40}}
    assert envelope.parse_request(json.dumps(shallow)) == shallow
    assert envelope.parse_request(json.dumps(shallow).encode()) == shallow
