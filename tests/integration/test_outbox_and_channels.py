"""The outbox survives a broker outage; each channel has its own queues and worker."""

import time

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from actions import records
from actions.contract.registry import Channel
from actions.delivery import outbox
from actions.edge import health
from actions.edge.pipeline import Ingress, submit
from actions.models import ActionRecord
from config import queues
from tests.conftest import envelope
from tests.records import stored

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


def test_a_record_stored_during_a_broker_outage_is_published_once_it_is_back(monkeypatch, tokens):
    # The broker is "down": every publish fails after the record was committed.
    monkeypatch.setattr(outbox, "broker_url", lambda channel: "amqp://guest:guest@127.0.0.1:1//")
    monkeypatch.setattr(outbox, "_publishers", {})
    env = envelope("leads.list", {})
    outcome = submit(
        Ingress(
            channel=Channel.USER, body=env, authorization=f"Bearer {tokens['member@acme.test']}"
        )
    )
    assert outcome.envelope["status"] == "pending"
    assert outbox.publisher("user").flush(timeout=15)  # it tried, and failed
    with schema_context("acme"):
        assert ActionRecord.objects.get(id=env["id"]).published_at is None
    monkeypatch.undo()  # the broker is back
    # The publisher tries its refused batch again by itself (docs/reliability.md); the sweep
    # is the backstop. Whichever publishes first, a second delivery is skipped.
    outbox.sweep(older_than_s=0)
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
        queues.routing_key(channel="user", tenant="acme", action="leads.create")
        == "user.acme.leads.create"
    )


def _stored(action="leads.list", *, status="accepted", started_ago_s=None, attempts=0):
    """A record as the pipeline stores it, then put in the given state (test set-up)."""
    from datetime import timedelta

    from django.utils import timezone

    started = None if started_ago_s is None else timezone.now() - timedelta(seconds=started_ago_s)
    return stored(
        "acme",
        action,
        status=status,
        attempts=attempts,
        published_at=timezone.now(),
        started_at=started,
    )


def test_a_second_delivery_while_the_lease_runs_is_skipped():
    from actions.worker import executor

    record = _stored(status="running", started_ago_s=1, attempts=1)
    assert (
        executor.execute(channel="user", schema="acme", record_id=str(record.id), worker="w")
        == "skipped"
    )
    with schema_context("acme"):
        assert ActionRecord.objects.get(id=record.id).attempts == 1


def test_a_running_record_whose_lease_ran_out_is_run_again_by_the_sweep():

    stale = _stored(status="running", started_ago_s=30 + records.LEASE_GRACE_S + 5, attempts=1)
    assert outbox.sweep(older_than_s=0) >= 1
    record = wait_finished("acme", stale.id)
    assert record.attempts == 2 and record.error["code"] == "not_implemented"


def test_a_record_that_keeps_failing_gives_up_after_max_attempts():
    from actions.worker import executor

    stale = _stored(
        status="running",
        started_ago_s=30 + records.LEASE_GRACE_S + 5,
        attempts=executor.MAX_ATTEMPTS,
    )
    assert (
        executor.execute(channel="user", schema="acme", record_id=str(stale.id), worker="w")
        == "error"
    )
    with schema_context("acme"):
        record = ActionRecord.objects.get(id=stale.id)
    assert record.error["code"] == "internal_error" and "Gave up" in record.error["message"]


def test_a_result_that_cannot_be_written_leaves_the_record_running_for_the_sweep(monkeypatch):
    from django.db import OperationalError

    from actions.worker import executor

    record = _stored("system.index")

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(executor, "_finish", database_gone)
    with pytest.raises(OperationalError):
        executor.execute(channel="user", schema="acme", record_id=str(record.id), worker="w")
    with schema_context("acme"):
        assert ActionRecord.objects.get(id=record.id).status == "running"
