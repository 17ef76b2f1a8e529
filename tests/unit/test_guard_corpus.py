"""Measured: the guard on an attack corpus (goal >= 99 % refused) and a benign corpus
(goal <= 0.5 % refused), each value placed in real action payloads and run through
steps 5 (schema) and 6 (guard) as the pipeline does. Figures go to docs/security.md."""

from collections import Counter

import pytest
from pydantic import ValidationError

from actions.contract.registry import load_catalog
from actions.edge import guard
from tests import corpora

registry = load_catalog()


def _run(action: str, payload: dict) -> str | None:
    """None if accepted, else "schema" or the guard's category."""
    spec = registry.get(action)
    try:
        spec.input.model_validate(payload)
    except ValidationError:
        return "schema"
    try:
        guard.inspect(spec, payload)
    except guard.Rejected as err:
        return err.category
    return None


def _webhook(body: dict) -> tuple[str, dict]:
    return "webhooks.ingest", {"workspace": "main", "path": "orders", "body": body}


def _attack_placements(category: str, value: str):
    if category == "ssrf":
        payload = {"surface": "web", "cta_id": "signup", "page": value}
        yield "url field", ("analytics.cta.record", payload)
        yield "open object", _webhook({"callback": {"url": value}})
        return
    if len(value) <= 200:
        yield "strict field", ("leads.create", {"name": value})
    if category == "control_characters_identifier":
        return  # line breaks and isolates are allowed in prose and open data
    yield "open object", _webhook({"data": {"note": value, "n": 1}})
    if category in ("script_injection", "template_injection", "control_characters"):
        yield "free text", ("leads.create", {"name": "Ann", "notes": value})


def _report(title: str, lines: list[str]) -> None:
    # Printed with -s, and kept in the captured output of the test report otherwise.
    print(f"\n== {title}\n" + "\n".join(lines))


def test_attack_corpus_is_refused():
    total, refused, by_guard = Counter(), Counter(), Counter()
    missed = []
    for category, values in corpora.attacks().items():
        for value in values:
            for where, (action, payload) in _attack_placements(category, value):
                outcome = _run(action, payload)
                total[category] += 1
                if outcome is not None:
                    refused[category] += 1
                    by_guard[category] += outcome != "schema"
                else:
                    missed.append((category, where, value))
    for category, keys in corpora.attack_keys().items():
        for key in keys:
            for payload in ({key: "x"}, {"filter": {key: {"a": 1}}}):
                outcome = _run(*_webhook(payload))
                total[category] += 1
                refused[category] += outcome is not None
                by_guard[category] += outcome not in (None, "schema")
                if outcome is None:
                    missed.append((category, "key", key))
    n, r = sum(total.values()), sum(refused.values())
    lines = [
        f"{c:22} {refused[c]:4}/{total[c]:<4} refused ({by_guard[c]} by the guard)"
        for c in sorted(total)
    ]
    lines.append(f"{'all':22} {r:4}/{n:<4} refused = {100 * r / n:.2f} %")
    lines += [f"missed: {c} in {w}: {v!r}" for c, w, v in missed[:60]]
    _report("attack corpus", lines)
    assert n >= 500
    assert r / n >= 0.99, lines


BENIGN_PLACEMENT = {
    "name": lambda v: ("leads.create", {"name": v}),
    "company": lambda v: ("leads.create", {"name": "Ann", "company": v}),
    "prose": lambda v: ("leads.create", {"name": "Ann", "notes": v}),
    "code": lambda v: ("leads.create", {"name": "Ann", "notes": v}),
    "url": lambda v: ("analytics.cta.record", {"surface": "web", "cta_id": "signup", "page": v}),
    "search": lambda v: ("leads.list", {"search": v}),
    "open": lambda v: _webhook({"data": {"value": v}}),
}


def test_benign_corpus_passes():
    values = corpora.benign()
    refused = []
    for kind, value in values:
        outcome = _run(*BENIGN_PLACEMENT[kind](value))
        assert outcome != "schema", f"corpus value does not fit its field: {kind} {value!r}"
        if outcome is not None:
            refused.append((kind, outcome, value))
    share = 100 * len(refused) / len(values)
    lines = [f"{len(refused)}/{len(values)} refused = {share:.2f} %"]
    lines += [f"refused: {k} as {c}: {v!r}" for k, c, v in refused]
    _report("benign corpus", lines)
    assert len(values) >= 500
    assert share <= 0.5, lines


@pytest.mark.parametrize(
    "value",
    ["O'Brien", "please select the drop-off date", "Flat 3; 12 High Street, London"],
)
def test_the_issue_examples_pass(value):
    assert _run("leads.create", {"name": "Ann", "company": value, "notes": value}) is None
