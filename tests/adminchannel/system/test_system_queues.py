"""system.queues: each queue's depth, consumers and oldest waiting record, for developers."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from actions.models import ActionRecord
from tests.admin_calls import DEV, MEMBER, OWNER, admin
from tests.conftest import new_id

pytestmark = pytest.mark.usefixtures("workers")


def test_a_member_is_refused(api, tokens):
    status, body = admin(api, tokens, MEMBER, "system.queues", tenant="platform")
    assert (status, body["status"], body["error"]["code"]) == (403, "error", "forbidden")


def test_an_owner_may_not_read_platform_monitoring(api, tokens):
    status, body = admin(api, tokens, OWNER, "system.queues")
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
    queues = body["result"]["queues"]
    assert set(queues) >= {
        "switchboard.user.actions",
        "switchboard.admin.actions",
        "switchboard.ingress.user",
        "switchboard.ingress.admin",
        "switchboard.maintenance",
    }
    user = queues["switchboard.user.actions"]
    assert user["declared"] and user["kind"] == "work" and user["error"] is None
    assert user["consumers"] >= 1 and user["messages"] >= 0
    assert user["oldest_waiting_s"] >= 40
    assert queues["switchboard.admin.actions"]["consumers"] >= 1  # the admin login looked
    assert queues["switchboard.ingress.user"]["oldest_waiting_s"] is None
    assert body["result"]["dead_lettered"] == sum(
        q["messages"] for q in queues.values() if q["kind"] == "dead_letter"
    )


def test_the_inspection_reports_dead_letter_queues_once_config_names_them(monkeypatch):
    from adminchannel import monitoring
    from config import queues as config_queues

    monkeypatch.setattr(
        config_queues, "dead_letter_queue", lambda c: f"switchboard.{c}.dead", raising=False
    )
    queues = monitoring.queue_inspect()
    for channel in ("user", "admin"):
        parked = queues[f"switchboard.{channel}.dead"]
        assert parked["kind"] == "dead_letter" and parked["channel"] == channel
        assert parked["error"] is None and parked["declared"] in (True, False)
        assert parked["messages"] >= 0  # 0 when the queue is not declared yet
    assert queues["switchboard.maintenance"]["kind"] == "work"
