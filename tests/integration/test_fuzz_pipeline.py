"""Property-based tests (hypothesis) over the envelope and payloads, through
actions.edge.pipeline.submit directly: whatever arrives, the answer is a valid response envelope
with a 4xx/2xx status, never an exception, and a refusal never echoes what was sent."""

import json
import re
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.contract.registry import Channel, load_catalog
from actions.edge.pipeline import Ingress, submit
from tests.envelopes import assert_envelope

registry = load_catalog()
NAMES = sorted({spec.name for spec in registry.all()})
RUNS = {"bodies": 0, "envelopes": 0, "payloads": 0}
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

text = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)
hostile_text = (
    st.sampled_from(
        [
            "' OR 1=1--",
            "<script>x</script>",
            "{{7*7}}",
            "../../etc/passwd",
            "$(id)",
            "\x00",
            "\u202e",
        ]
    )
    | text
)


def _answer(body, token=None, channel=Channel.USER):
    outcome = submit(
        Ingress(
            channel=channel,
            body=body,
            authorization=f"Bearer {token}" if token else None,
            source="192.0.2.1",
        )
    )
    assert outcome.http_status < 500, outcome.envelope
    return assert_envelope(outcome.envelope)


@FUZZ
@given(body=st.binary(max_size=200) | json_values.map(json.dumps))
def test_any_body_gets_an_envelope(body):
    RUNS["bodies"] += 1
    _answer(body)


@FUZZ
@given(
    api=st.sampled_from(["1", "2", 1, None]),
    id_=st.uuids().map(str) | text,
    action=st.sampled_from(NAMES) | text,
    version=st.none() | st.integers(min_value=-2, max_value=3) | text,
    tenant=st.sampled_from(["acme", "beta", "platform", "acme\n", "ACME"]) | text,
    payload=json_values,
    extra=st.dictionaries(st.sampled_from(["meta", "actor", "x"]), json_values, max_size=2),
    channel=st.sampled_from(list(Channel)),
)
def test_any_envelope_gets_an_envelope(api, id_, action, version, tenant, payload, extra, channel):
    RUNS["envelopes"] += 1
    env = {"api": api, "id": id_, "action": action, "tenant": tenant, "payload": payload}
    if version is not None:
        env["version"] = version
    env.update(extra)
    _answer(json.dumps(env), channel=channel)


def _payload_strategy():
    """Payloads shaped like real ones: the action's own field names with hostile values."""
    specs = [s for s in registry.all() if s.channel == Channel.USER and s.input.model_fields]
    return st.sampled_from(specs).flatmap(
        lambda spec: st.tuples(
            st.just(spec),
            st.dictionaries(
                st.sampled_from(sorted(spec.input.model_fields)),
                hostile_text | json_values,
                max_size=4,
            ),
        )
    )


def _values(value):
    if isinstance(value, dict):
        return [_values(v) for v in value.values()]
    if isinstance(value, list):
        return [_values(v) for v in value]
    return value


def test_hostile_payloads_of_real_actions(tokens):
    token = tokens["member@acme.test"]

    @FUZZ
    @given(case=_payload_strategy())
    def run(case):
        RUNS["payloads"] += 1
        spec, payload = case
        env = {
            "api": "1",
            "id": str(uuid.uuid4()),
            "action": spec.name,
            "tenant": "platform" if spec.scope == "platform" else "acme",
            "payload": payload,
        }
        answer = _answer(json.dumps(env), token=token)
        if answer["status"] == "error" and answer["error"]["code"] in (
            "rejected_input",
            "validation_error",
        ):
            # Values only: the error object's own keys (`retryable`, `path`, ...) are the
            # server's vocabulary, not an echo (a fuzzed "retr" is in "retryable").
            shown = json.dumps(_values(answer["error"]))
            for value in payload.values():
                # A value spelling a field's name is in the error's path (`payload/type`):
                # the server naming its own field, not an echo.
                if isinstance(value, str) and value in spec.input.model_fields:
                    continue
                if isinstance(value, str) and len(value) > 3 and value.strip():
                    # As a whole word: "form" is not echoed by "information".
                    echoed = rf"(?<![A-Za-z0-9]){re.escape(json.dumps(value)[1:-1])}(?![A-Za-z0-9])"
                    assert not re.search(echoed, shown), "refusal echoed the input"

    run()
    print(f"\n== hypothesis examples: {RUNS}")
