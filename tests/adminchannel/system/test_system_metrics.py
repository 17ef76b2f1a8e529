"""system.metrics: calls, errors and latency per action over the last hour, for developers."""

import pytest

from tests.admin_calls import DEV, MEMBER, admin, cta
from tests.conftest import envelope

pytestmark = pytest.mark.usefixtures("workers")


def test_a_member_is_refused(api, tokens):
    status, body = admin(api, tokens, MEMBER, "system.metrics", tenant="platform")
    assert (status, body["status"], body["error"]["code"]) == (403, "error", "forbidden")


def test_system_metrics_gives_calls_errors_and_latency_per_action(api, tokens):
    cta(api, tokens, 3)
    refused = envelope("leads.create", {"name": "Ann"})  # a dummy: not_implemented, recorded
    assert api(refused, token=tokens[MEMBER]).json()["error"]["code"] == "not_implemented"
    status, body = admin(api, tokens, DEV, "system.metrics", {"minutes": 60})
    assert status == 200 and body["status"] == "ok", body
    result = body["result"]
    rows = {a["action"]: a for a in result["actions"]}
    row = rows["analytics.cta.record"]
    assert row["calls"] >= 3 and row["channel"] == "user"
    assert row["calls_per_min"] == pytest.approx(row["calls"] / 60, abs=0.001)
    assert 0 <= row["p50_ms"] <= row["p95_ms"]
    assert rows["leads.create"]["errors"] >= 1 and rows["leads.create"]["errors_per_min"] > 0
    points = [p for p in result["series"] if p["action"] == "analytics.cta.record"]
    assert sum(p["calls"] for p in points) == row["calls"]
    status, bad = admin(api, tokens, DEV, "system.metrics", {"minutes": 100000})
    assert (status, bad["error"]["code"]) == (400, "validation_error")
