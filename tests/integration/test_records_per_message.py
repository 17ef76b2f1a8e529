"""Records stored at the same moment share a task message (actions.delivery.outbox
`together`): a worker runs each of them once, a bug with one does not keep the others
from running, and a redelivered message is split, each record going on in a message of
its own, and a copy never takes a running record over (actions.worker.tasks).
Against the real database, broker and a real worker."""

import time
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.exceptions import Reject
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from actions.delivery import outbox
from actions.delivery.outbox import Pending, together
from actions.models import ActionRecord, CtaEvent
from actions.records import LEASE_GRACE_S
from actions.worker import executor, tasks
from tests.integration.test_outbox_and_channels import wait_finished
from tests.records import stored

pytestmark = pytest.mark.usefixtures("workers")
CTA = {"surface": "batch-test", "cta_id": "signup", "event": "click"}
HERE = "in-process@test"  # the hostname this process's runs write in `executed_by`


def _records(count: int) -> list[ActionRecord]:
    return [
        stored("acme", "analytics.cta.record", payload={**CTA, "variant": f"v{i}"})
        for i in range(count)
    ]


def _task(*, redelivered: bool) -> SimpleNamespace:
    """What `tasks._run` reads of a Celery task: its request's hostname, RabbitMQ's
    redelivered flag and the message's `action` header."""
    request = SimpleNamespace(
        hostname=HERE,
        delivery_info={"redelivered": redelivered},
        action="analytics.cta.record",
    )
    return SimpleNamespace(request=request)


def _facts(records: list[ActionRecord]) -> dict:
    """The task message's keyword arguments for a message carrying `records`."""
    return {
        "actor_id": records[0].actor_id,
        "also": [[str(r.id), r.actor_id] for r in records[1:]],
    }


def _effects(records: list[ActionRecord]) -> Counter:
    """How many CTA rows each record's action wrote."""
    with schema_context("acme"):
        rows = CtaEvent.objects.filter(message_id__in=[r.id for r in records])
        return Counter(str(m) for m in rows.values_list("message_id", flat=True))


def _fetch(record: ActionRecord) -> ActionRecord:
    with schema_context("acme"):
        return ActionRecord.objects.get(id=record.id)


def test_neighbours_of_one_tenant_and_action_share_a_message():
    def item(record_id, schema="acme", action="analytics.cta.record"):
        return Pending(schema, record_id, "user", action, 1)

    batch = [item("1"), item("2"), item("3"), item("4", schema="beta"), item("5")]
    batch += [item("6", action="leads.list"), item("7", action="leads.list")]
    messages = together(batch, most=2)
    # In order, at most two to a message, never across tenants or actions.
    assert [[i.record_id for i in m] for m in messages] == [
        ["1", "2"],
        ["3"],
        ["4"],
        ["5"],
        ["6", "7"],
    ]
    assert len(together(batch, most=1)) == len(batch)


def test_one_message_carries_several_records_to_a_real_worker(monkeypatch):
    records = _records(3)
    sent: list[list[str]] = []
    real = outbox.task_message

    def spy(item, **kwargs):
        sent.append([item.record_id] + [other.record_id for other in kwargs.get("also", ())])
        return real(item, **kwargs)

    monkeypatch.setattr(outbox, "task_message", spy)
    publisher = outbox.Publisher("user")
    try:
        pending = [Pending.of(r, schema="acme") for r in records]
        assert publisher.publish_batch(pending, most=4) == 3
    finally:
        publisher.close()
    assert sent == [[str(r.id) for r in records]]  # one message for the three
    for record in records:
        done = wait_finished("acme", record.id)
        assert done.status == "ok" and done.attempts == 1, (done.status, done.error)
        assert done.executed_by.startswith("user-test@")
    assert _effects(records) == {str(r.id): 1 for r in records}


def test_each_record_of_a_message_runs_once():
    records = _records(3)
    assert tasks._run(_task(redelivered=False), "user", "acme", str(records[0].id), _facts(records))
    for record in records:
        done = _fetch(record)
        assert (done.status, done.executed_by, done.attempts) == ("ok", HERE, 1)
    assert _effects(records) == {str(r.id): 1 for r in records}


def test_a_bug_with_one_record_does_not_strand_the_others(monkeypatch):
    records = _records(3)
    real = executor.execute

    def execute(**kwargs):
        if kwargs["record_id"] == str(records[1].id):
            raise RuntimeError("a bug outside the handler")
        return real(**kwargs)

    monkeypatch.setattr(executor, "execute", execute)
    with pytest.raises(RuntimeError, match="a bug outside the handler"):
        tasks._run(_task(redelivered=False), "user", "acme", str(records[0].id), _facts(records))
    # The others ran; the one whose run failed is left as a message of its own would leave
    # it (the task fails and Celery logs the error).
    assert [_fetch(r).status for r in records] == ["ok", "accepted", "ok"]


def test_a_redelivered_message_is_split_and_each_record_goes_on_alone():
    records = _records(3)
    with schema_context("acme"):  # its worker died after finishing the first record
        first = records[0]
        ActionRecord.objects.filter(id=first.id).update(status="ok", attempts=1, result={})
    facts = _facts(records)
    assert tasks._run(_task(redelivered=True), "user", "acme", str(first.id), facts) == "split"
    assert _fetch(first).executed_by == ""  # finished already: its copy was skipped
    for record in records[1:]:  # published apart, run by the real worker
        done = wait_finished("acme", record.id)
        assert done.status == "ok" and done.attempts == 1, (done.status, done.error)
        assert done.executed_by.startswith("user-test@"), done.executed_by
    assert _effects(records[1:]) == {str(r.id): 1 for r in records[1:]}


def test_a_split_made_twice_runs_each_record_once():
    """A worker may die after publishing a split and before acknowledging the message (or
    the broker confirm only part of one): the message is split again."""
    records = _records(2)
    for _ in range(2):
        tasks._run(_task(redelivered=True), "user", "acme", str(records[0].id), _facts(records))
    for record in records:
        done = wait_finished("acme", record.id)
        assert done.status == "ok" and done.attempts == 1, (done.status, done.attempts)
    assert _effects(records) == {str(r.id): 1 for r in records}


def test_a_copy_never_takes_a_running_record_over(monkeypatch):
    """Copies may exist twice: one that RabbitMQ redelivers (its worker died) must not take
    the record from the other copy running it. The record's lease is the bound."""
    (record,) = _records(1)
    with schema_context("acme"):  # another copy runs it
        ActionRecord.objects.filter(id=record.id).update(
            status="running", attempts=1, started_at=timezone.now(), executed_by="other@w"
        )
    copy = {"actor_id": record.actor_id, "redelivered": True}
    assert tasks._run(_task(redelivered=True), "user", "acme", str(record.id), copy) == "skipped"
    assert (_fetch(record).attempts, _fetch(record).executed_by) == (1, "other@w")
    # A plain message RabbitMQ redelivered takes it over at once, as before.
    plain = {"actor_id": record.actor_id}
    assert tasks._run(_task(redelivered=True), "user", "acme", str(record.id), plain) == "ok"
    assert (_fetch(record).attempts, _fetch(record).executed_by) == (2, HERE)


def test_a_split_leaves_a_running_record_to_its_lease():
    records = _records(2)
    started = timezone.now()
    with schema_context("acme"):  # its worker died holding it (the long way)
        ActionRecord.objects.filter(id=records[0].id).update(
            status="running", attempts=1, started_at=started, executed_by="dead@w"
        )
    facts = _facts(records)
    assert tasks._run(_task(redelivered=True), "user", "acme", str(records[0].id), facts) == "split"
    done = wait_finished("acme", records[1].id)  # the accepted one runs from its copy
    assert (done.status, done.attempts) == ("ok", 1)
    time.sleep(0.5)  # the running one's copy was skipped by the real worker
    held = _fetch(records[0])
    assert (held.status, held.attempts, held.executed_by) == ("running", 1, "dead@w")
    # ... and the sweep publishes it again once its lease ran out.
    with schema_context("acme"):
        ActionRecord.objects.filter(id=records[0].id).update(
            started_at=started - timedelta(seconds=30 + LEASE_GRACE_S + 5)
        )
    assert outbox.sweep(older_than_s=0) >= 1
    done = wait_finished("acme", records[0].id)
    assert (done.status, done.attempts) == ("ok", 2)


def test_a_split_the_broker_did_not_take_requeues_the_message(monkeypatch):
    records = _records(2)

    def refused(**kwargs):
        raise outbox.PublishFailed("the broker is away")

    monkeypatch.setattr(outbox, "publish_apart", refused)
    monkeypatch.setattr(tasks, "REQUEUE_PAUSE_S", 0)
    with pytest.raises(Reject) as rejected:
        tasks._run(_task(redelivered=True), "user", "acme", str(records[0].id), _facts(records))
    assert rejected.value.requeue
    # Nothing ran: the requeued message still carries both records.
    assert [_fetch(r).status for r in records] == ["accepted", "accepted"]


def test_the_sweep_republishes_stale_records_one_to_a_message(monkeypatch):
    """A stale record may be a poison one: a message it shared would be split again at
    each of its crashes."""
    conf = {**settings.SWITCHBOARD, "TENANT_INFLIGHT_CAP": {"user": 0, "admin": 0}}
    monkeypatch.setattr(settings, "SWITCHBOARD", conf)  # no slots: the sweep's order only
    records = _records(3)  # stored, never published: what the sweep looks for
    carried: dict[str, int] = {}
    real = outbox.task_message

    def spy(item, **kwargs):
        carried[item.record_id] = 1 + len(kwargs.get("also", ()))
        return real(item, **kwargs)

    monkeypatch.setattr(outbox, "task_message", spy)
    assert outbox.sweep(older_than_s=0) >= 3
    assert all(carried.get(str(r.id)) == 1 for r in records), carried
    for record in records:
        assert wait_finished("acme", record.id).status == "ok"
