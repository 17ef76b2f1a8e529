"""The outbox survives a broker outage; each channel has its own queues and worker."""

import time

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from actions import health, outbox
from actions.models import ActionRecord
from actions.pipeline import Ingress, submit
from actions.registry import Channel
from tests.conftest import envelope

pytestmark = pytest.mark.usefixtures("workers")


def wait_finished(schema, record_id, timeout=15.0) -> ActionRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with schema_context(schema):
            record = ActionRecord.objects.get(id=record_id)
        if record.finished:
            return record
        time.sleep(0.05)
    raise AssertionError(f"record {record_id} did not finish")


def test_a_record_stored_during_a_broker_outage_is_published_by_the_sweep(monkeypatch, tokens):
    # The broker is "down": every publish fails after the record was committed.
    monkeypatch.setattr(outbox, "_broker_url", lambda channel: "amqp://guest:guest@127.0.0.1:1//")
    monkeypatch.setattr(outbox, "_connections", {})
    env = envelope("leads.list", {})
    outcome = submit(
        Ingress(
            channel=Channel.USER, body=env, authorization=f"Bearer {tokens['member@acme.test']}"
        )
    )
    assert outcome.envelope["status"] == "pending"
    with schema_context("acme"):
        assert ActionRecord.objects.get(id=env["id"]).published_at is None
    monkeypatch.undo()  # the broker is back
    assert outbox.sweep(older_than_s=0) >= 1
    record = wait_finished("acme", env["id"])
    assert record.error["code"] == "not_implemented" and record.attempts == 1
    assert record.published_at is not None


def test_each_worker_says_which_channel_it_serves_and_served():
    found = health.workers(timeout=1.0)
    assert any(h.startswith("user-test@") for h in found["user"])
    assert any(h.startswith("admin-test@") for h in found["admin"])
    assert not any(h.startswith("admin-test@") for h in found["user"])


def test_every_task_queue_is_declared_and_channels_share_none():
    from config.celery import app

    app.loader.import_default_modules()
    declared = {q.name: q for q in settings.CELERY_TASK_QUEUES}
    assert declared["switchboard.user.actions"].exchange.name == "switchboard.user"
    assert declared["switchboard.admin.actions"].exchange.name == "switchboard.admin"
    for name in ("switchboard.user.execute", "switchboard.admin.execute"):
        assert name in app.tasks
    for queue in declared.values():
        assert queue.durable
    user = {q for q in declared if ".admin." not in q}
    admin = {q for q in declared if ".admin." in q}
    assert user.isdisjoint(admin) and admin == {"switchboard.admin.actions"}


def test_routing_keys_carry_channel_tenant_and_action():
    assert (
        outbox.routing_key(channel="user", tenant="acme", action="leads.create")
        == "user.acme.leads.create"
    )
