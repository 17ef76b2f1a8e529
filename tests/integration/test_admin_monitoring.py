"""The admin channel's monitoring and operations actions, through the real gateway and
workers: dashboard.summary, system.queues, system.workers, system.metrics,
audit.admin.verify and the Prometheus endpoint. Each refuses a member."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from actions.models import ActionRecord
from tests.conftest import envelope, new_id
from tests.envelopes import assert_envelope

pytestmark = pytest.mark.usefixtures("workers")

DEV = "dev@switchboard.test"
OWNER = "owner@acme.test"
MEMBER = "member@acme.test"


def admin(api, tokens, who, action, payload=None, tenant="platform"):
    response = api(envelope(action, payload or {}, tenant=tenant), token=tokens[who], admin=True)
    return response.status_code, assert_envelope(response.json())


def cta(api, tokens, n=2):
    for _ in range(n):
        env = envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
        body = api(env, token=tokens[MEMBER]).json()
        assert body["status"] == "ok", body


@pytest.mark.parametrize(
    "action,tenant",
    [
        ("dashboard.summary", "acme"),
        ("system.queues", "platform"),
        ("system.workers", "platform"),
        ("system.metrics", "platform"),
        ("audit.admin.verify", "platform"),
    ],
)
def test_a_member_is_refused(api, tokens, action, tenant):
    status, body = admin(api, tokens, MEMBER, action, tenant=tenant)
    assert (status, body["status"], body["error"]["code"]) == (403, "error", "forbidden")


def test_an_owner_may_not_read_platform_monitoring(api, tokens):
    status, body = admin(api, tokens, OWNER, "system.queues")
    assert (status, body["error"]["code"]) == (403, "forbidden")


def test_dashboard_summary_counts_the_tenants_actions_people_and_chain(api, tokens):
    cta(api, tokens, 2)
    status, body = admin(api, tokens, OWNER, "dashboard.summary", tenant="acme")
    assert status == 200 and body["status"] == "ok", body
    summary = body["result"]
    assert summary["actions"]["ok"] >= 2
    top = {a["action"]: a["count"] for a in summary["top_actions"]}
    assert top["analytics.cta.record"] >= 2
    assert summary["members"] >= 2 and summary["owners"] >= 1
    assert summary["audit_chain"]["ok"] is True and summary["audit_chain"]["checked"] > 0
    # A window in the past has nothing in it.
    past = {"since": "2001-01-01T00:00:00Z", "until": "2001-01-02T00:00:00Z"}
    _, empty = admin(api, tokens, OWNER, "dashboard.summary", past, tenant="acme")
    assert empty["result"]["actions"] == {"ok": 0, "error": 0, "pending": 0}


def test_dashboard_summary_is_refused_on_a_tenant_the_owner_does_not_own(api, tokens):
    status, body = admin(api, tokens, OWNER, "dashboard.summary", tenant="beta")
    assert (status, body["error"]["code"]) == (403, "forbidden")


def test_system_queues_tells_depth_consumers_and_the_oldest_waiting_record(api, tokens):
    waiting_id = new_id()
    with schema_context("acme"):
        # A record stored 40 s ago and never claimed: what the oldest age is read from.
        ActionRecord.objects.create(
            id=waiting_id,
            action="analytics.cta.record",
            version=1,
            channel="user",
            transport="rest",
            payload={},
            payload_hash="x",
            trace_id="t",
            published_at=timezone.now(),  # not the outbox's to publish
        )
        ActionRecord.objects.filter(id=waiting_id).update(
            created_at=timezone.now() - timedelta(seconds=40)
        )
    try:
        status, body = admin(api, tokens, DEV, "system.queues")
    finally:
        with schema_context("acme"):
            ActionRecord.objects.filter(id=waiting_id).delete()
    assert status == 200 and body["status"] == "ok", body
    queues = {q["name"]: q for q in body["result"]["queues"]}
    assert set(queues) >= {
        "switchboard.user.actions",
        "switchboard.admin.actions",
        "switchboard.ingress.user",
        "switchboard.ingress.admin",
        "switchboard.maintenance",
    }
    user = queues["switchboard.user.actions"]
    assert user["consumers"] >= 1 and user["messages"] >= 0 and user["error"] is None
    assert user["oldest_waiting_s"] >= 40
    assert queues["switchboard.admin.actions"]["consumers"] >= 1  # the admin login looked
    assert queues["switchboard.ingress.user"]["oldest_waiting_s"] is None


def test_system_workers_lists_each_channels_workers_and_what_they_run(api, tokens):
    status, body = admin(api, tokens, DEV, "system.workers")
    assert status == 200 and body["status"] == "ok", body
    result = body["result"]
    assert result["channels"]["user"] >= 1 and result["channels"]["admin"] >= 1
    by_host = {w["hostname"]: w for w in result["workers"]}
    user = next(w for h, w in by_host.items() if h.startswith("user-test@"))
    admin_worker = next(w for h, w in by_host.items() if h.startswith("admin-test@"))
    assert user["channel"] == "user" and "switchboard.user.actions" in user["queues"]
    assert admin_worker["channel"] == "admin"
    assert admin_worker["queues"] == ["switchboard.admin.actions"]
    assert user["concurrency"] == 4 and user["pid"] > 0
    # The admin worker is running this very action while it answers.
    assert any(t["task"] == "switchboard.admin.execute" for t in admin_worker["running"])


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


def test_audit_admin_verify_reports_an_intact_chain(api, tokens):
    status, body = admin(api, tokens, DEV, "audit.admin.verify")
    assert status == 200 and body["status"] == "ok", body
    assert body["result"]["ok"] is True and body["result"]["first_bad_seq"] is None
    assert body["result"]["checked"] > 0


def test_metrics_endpoint_serves_prometheus_text_to_loopback(client, api, tokens):
    cta(api, tokens, 1)
    response = client.get("/metrics")  # the test client is 127.0.0.1
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'switchboard_action_calls_per_minute{action="analytics.cta.record",channel="user"}' in (
        text
    )
    assert 'quantile="0.95"' in text
    assert 'switchboard_queue_messages{queue="switchboard.user.actions"}' in text
    assert 'switchboard_queue_consumers{queue="switchboard.admin.actions"} 1.0' in text
    assert 'switchboard_workers{channel="admin"} 1.0' in text


def test_metrics_endpoint_refuses_other_addresses_and_wants_the_token_when_set(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    with override_settings(METRICS_TOKEN="scrape-secret"):
        assert client.get("/metrics").status_code == 403  # loopback is not enough then
        wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
        assert wrong.status_code == 403
        ok = client.get(
            "/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer scrape-secret"
        )
        assert ok.status_code == 200 and b"switchboard_workers" in ok.content
    assert client.post("/metrics").status_code == 405
