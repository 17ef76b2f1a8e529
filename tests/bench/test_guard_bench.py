"""Guard cost (not a timed test): time per message of guard.inspect on a typical and on a
maximum-size payload, and its share of the whole submit() pipeline (steps 1-9: parse,
authenticate, resolve, validate, guard, authorise, rate limit, store, publish) measured
in the same run. Run with `make bench`."""

import json
import statistics
import time
import uuid

import pytest

from actions import guard
from actions.pipeline import Ingress, submit
from actions.registry import Channel, load_catalog

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


@pytest.mark.bench
def test_guard_cost(tokens):
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
