"""Guard cost (not a timed test): time per message of guard.inspect on a typical and on a
maximum-size payload, and its share of the whole submit() pipeline (steps 1-9: parse,
authenticate, resolve, validate, guard, authorise, rate limit, store, publish) measured
in the same run; and the worst case: the adversarial (ReDoS) strings of tests/corpora.py,
one per message, and a 256 KiB body made of them. Run with `make bench`."""

import json
import statistics
import time
import uuid

import pytest

from actions.contract.registry import Channel, load_catalog
from actions.edge import guard, ratelimit
from actions.edge.pipeline import Ingress, submit
from tenants import services as tenants
from tests import corpora

registry = load_catalog()

TYPICAL = (
    "leads.create",
    {
        "name": "Seán O'Brien",
        "email": "sean@example.com",
        "company": "O'Brien & Sons; Dublin",
        "notes": "Met at the fair; please select the drop-off date and call back after 3pm.",
    },
)


def _max_webhook() -> tuple[str, dict]:
    """An open JSON body as large as the envelope allows (256 KiB), 4 levels deep."""
    row = {
        "id": "evt_1234567890",
        "customer": {"name": "Ann O'Brien", "email": "ann@example.com"},
        "description": "Order for 3 items; deliver to Flat 3, 12 High St. " * 3,
        "url": "https://shop.example.com/orders/1234?ref=hook",
        "tags": ["a", "b", "c"],
    }
    body = {"events": [row] * 190}
    assert len(json.dumps(body)) < 250_000
    return "webhooks.ingest", {"workspace": "main", "path": "orders", "body": body}


def _max_notes() -> tuple[str, dict]:
    prose = "Customer asked to select the drop-off date; O'Brien will call. "
    return "leads.create", {"name": "Ann", "notes": (prose * 400)[:20_000]}


def _time(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def _ms(samples: list[float]) -> str:
    p50, mean = statistics.median(samples) * 1e3, statistics.mean(samples) * 1e3
    return f"p50 {p50:.3f} ms, mean {mean:.3f} ms"


@pytest.fixture
def limits_on(settings):
    """Rate limits counted as in production (Redis round trip included), with limits this
    benchmark stays under: acme's config raised for the run, restored after."""
    settings.SWITCHBOARD = {
        **settings.SWITCHBOARD,
        "RATE_LIMITS_ENABLED": True,
        "RATE_LIMITS": {k: {"limit": 100_000, "window_s": 60} for k in ("source", "anonymous")},
    }
    tenant = tenants.tenant_get(slug="acme")
    before = tenant.config or {}
    high = {"per_tenant_per_minute": 100_000, "per_actor_per_minute": 10_000}
    tenants.config_set(tenant=tenant, overrides={**before, "rate_limits": high}, by=None)
    ratelimit.reset()
    yield
    tenants.config_set(tenant=tenants.tenant_get(slug="acme"), overrides=before, by=None)
    ratelimit.reset()


def _inspect(spec, payload) -> None:
    try:
        guard.inspect(spec, payload)
    except guard.Rejected:
        pass


@pytest.mark.bench
def test_guard_worst_case():
    """Time per message of the slowest adversarial strings (20 000 characters each)."""
    free_text, body = registry.get("leads.create"), registry.get("webhooks.ingest")
    rows = []
    for label, texts in corpora.adversarial_groups().items():
        for text in texts:
            for field, (spec, payload) in {
                "free text": (free_text, {"name": "Ann", "notes": text}),
                "strict": (body, {"workspace": "main", "path": "orders", "body": {"v": text}}),
            }.items():
                started = time.perf_counter()
                _inspect(spec, payload)
                rows.append((time.perf_counter() - started, field, label, text))
    rows.sort(key=lambda row: row[0], reverse=True)
    times = [row[0] for row in rows]
    # The slowest strings that fit one 256 KiB body (as UTF-8 JSON, what the envelope caps).
    fields: dict = {}
    for text in dict.fromkeys(row[3] for row in rows):
        trial = {**fields, f"k{len(fields)}": text}
        if len(json.dumps(trial, ensure_ascii=False).encode()) < 250_000:
            fields = trial
    whole = {"workspace": "main", "path": "orders", "body": fields}
    whole_times = _time(lambda: _inspect(body, whole), 5)
    lines = [
        f"{len(times)} messages of one 20 000-char adversarial string: worst "
        f"{times[0] * 1e3:.1f} ms, p50 {statistics.median(times) * 1e3:.1f} ms",
        *(f"  {t * 1e3:7.1f} ms  {field:9} {label}" for t, field, label, _ in rows[:5]),
        f"~250 KiB webhook body of the {len(fields)} slowest that fit: {_ms(whole_times)}",
    ]
    print("\n== guard worst case (adversarial)\n" + "\n".join(lines))


@pytest.mark.bench
def test_guard_cost(tokens, limits_on):
    token = tokens["member@acme.test"]
    rows = []
    for label, (name, payload), n in (
        ("typical", TYPICAL, 200),
        ("max free text (20 000 chars)", _max_notes(), 100),
        ("max open body (~250 KiB)", _max_webhook(), 30),
    ):
        spec = registry.get(name)
        guard_times = _time(lambda spec=spec, payload=payload: guard.inspect(spec, payload), n)

        def one(name=name, payload=payload):
            env = {"api": "1", "id": str(uuid.uuid4()), "action": name, "tenant": "acme"}
            env["payload"] = payload
            outcome = submit(
                Ingress(
                    channel=Channel.USER,
                    body=json.dumps(env).encode(),
                    authorization=f"Bearer {token}" if name != "webhooks.ingest" else None,
                    source="192.0.2.50",
                )
            )
            assert outcome.http_status == 202, outcome.envelope

        pipeline_times = _time(one, n)
        share = statistics.median(guard_times) / statistics.median(pipeline_times)
        rows.append(
            f"{label:30} guard {_ms(guard_times)} | submit() {_ms(pipeline_times)} | "
            f"guard share {share * 100:.1f} %"
        )
    print("\n== guard cost (n per row: 200 / 100 / 30)\n" + "\n".join(rows))


@pytest.mark.bench
def test_sql_token_rule_cost(monkeypatch):
    """Cost per strict field of the SQL token shapes (rules.SQL_TOKENS), before (the rule
    taken out of rules.STRICT) and after, in the same run: everyday values, the longest
    strict value (20 000 characters of prose), the ~250 KiB open body, sqlmap payloads."""
    from actions.edge.guard import rules
    from tests import corpora_external

    leads, body = registry.get("leads.create"), registry.get("webhooks.ingest")
    prose = ("Customer asked to select the drop-off date (by Monday); O'Brien will call. " * 300)[
        :20_000
    ]
    sqlmap = corpora_external.sqlmap_payloads()["held_out"][:300]
    cases = [
        ("name: Seán O'Brien", leads, [{"name": "Seán O'Brien"}], 2000),
        (
            "company: O'Brien & Sons; Dublin",
            leads,
            [{"name": "A", "company": "O'Brien & Sons; Dublin"}],
            2000,
        ),
        (
            "company: Acme (Europe) GmbH",
            leads,
            [{"name": "A", "company": "Acme (Europe) GmbH"}],
            2000,
        ),
        (
            "open value: 20 000 chars of prose",
            body,
            [{"workspace": "main", "path": "o", "body": {"v": prose}}],
            50,
        ),
        ("max open body (~250 KiB)", body, [_max_webhook()[1]], 20),
        ("name: 300 sqlmap payloads (each)", leads, [{"name": v} for v in sqlmap], 3),
    ]
    with_tokens = rules.STRICT
    without = tuple(rule for rule in rules.STRICT if rule[1] is not rules.SQL_TOKENS)
    rows = []
    for label, spec, payloads, n in cases:
        samples: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(n):  # interleaved, so that a busy machine weighs on both alike
            for name, table in (("before", without), ("after", with_tokens)):
                monkeypatch.setattr(rules, "STRICT", table)
                started = time.perf_counter()
                for payload in payloads:
                    _inspect(spec, payload)
                samples[name].append((time.perf_counter() - started) / len(payloads))
        before, after = (statistics.median(samples[k]) * 1e6 for k in ("before", "after"))
        rows.append(
            f"{label:36} before {before:9.1f} µs  after {after:9.1f} µs  (+{after - before:.1f} µs)"
        )
    print("\n== SQL token rule: guard time per message (p50)\n" + "\n".join(rows))
