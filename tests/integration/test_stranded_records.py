"""Records whose task message was lost (docs/reliability.md, "a message lost after its
publish"): published long ago, never run. The sweep publishes them again once their
channel's queue has no message waiting, and never while messages wait (they may be
queued behind them), nor a record published lately. Real broker, real worker."""

import logging
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context
from kombu import Connection

from actions.delivery import outbox
from actions.delivery.replies import broker_url
from actions.models import ActionRecord
from actions.worker import executor
from config.queues import action_queue
from tests.records import stored

pytestmark = pytest.mark.usefixtures("workers")

STRANDED_S = settings.SWITCHBOARD["OUTBOX_STRANDED_SECONDS"]


@pytest.fixture
def made():
    ids: list = []
    yield ids
    with schema_context("acme"):
        ActionRecord.objects.filter(id__in=ids).delete()


@pytest.fixture
def published(monkeypatch) -> list[str]:
    """The record ids the sweep hands to the broker (the real publish still happens)."""
    ids: list[str] = []
    real = outbox.Publisher.publish_batch

    def spy(self, batch, **kwargs):
        ids.extend(item.record_id for item in batch)
        return real(self, batch, **kwargs)

    monkeypatch.setattr(outbox.Publisher, "publish_batch", spy)
    return ids


def _published_ago(made: list, seconds: float, attempts: int = 0) -> str:
    record = stored(
        "acme",
        "analytics.cta.record",
        payload={"surface": "web", "cta_id": "stranded", "event": "click"},
        published_at=timezone.now() - timedelta(seconds=seconds),
        attempts=attempts,
    )
    made.append(record.id)
    return str(record.id)


def _record(record_id: str) -> ActionRecord:
    with schema_context("acme"):
        return ActionRecord.objects.get(id=record_id)


def _ready(queue: str, channel: str = "user") -> int:
    with Connection(broker_url(channel), connect_timeout=5) as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=True)[1]


def _until_finished(record_id: str, timeout: float = 15.0) -> ActionRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = _record(record_id)
        if record.finished:
            return record
        time.sleep(0.05)
    raise AssertionError(f"record {record_id} did not run: {record.status}")


def test_a_record_whose_message_was_lost_runs_once_its_queue_is_drained(made, published, caplog):
    record_id = _published_ago(made, STRANDED_S + 60)
    deadline = time.monotonic() + 15
    while _ready(action_queue("user")) and time.monotonic() < deadline:
        time.sleep(0.1)  # what earlier tests left in the queue goes first
    assert _ready(action_queue("user")) == 0
    with caplog.at_level(logging.WARNING, logger=outbox.__name__):
        outbox.sweep()
    assert record_id in published
    assert "published long ago and never run" in caplog.text
    record = _until_finished(record_id)
    # The lost message counts as an attempt, the claim as a second.
    assert (record.status, record.attempts) == ("ok", 2), record.error
    outbox.sweep()  # finished: never published again
    assert published.count(record_id) == 1


def test_a_record_whose_every_message_is_lost_is_given_up(made, published):
    """Lost before its claim MAX_ATTEMPTS times: the next copy gives it up (parked, the
    error log), instead of publishing it again every few minutes for ever."""
    record_id = _published_ago(made, STRANDED_S + 60, attempts=executor.MAX_ATTEMPTS - 1)
    outbox.sweep()
    assert record_id in published
    record = _until_finished(record_id)
    assert (record.status, record.error["code"]) == ("error", "internal_error"), record.error
    assert record.error["message"].startswith("Gave up after"), record.error


def test_a_record_published_lately_is_left_to_its_message(made, published):
    record_id = _published_ago(made, STRANDED_S - 60)
    outbox.sweep()
    assert record_id not in published
    assert _record(record_id).status == "accepted"


def test_a_stranded_record_waits_while_messages_wait_in_its_queue(made, published, monkeypatch):
    """A queue that holds a waiting message: the record may be behind it. Once the queue
    is empty, the next sweep publishes it."""
    queue = f"test.stranded.{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(outbox._Drained, "queue_of", staticmethod(lambda channel: queue))
    record_id = _published_ago(made, STRANDED_S + 60)
    with Connection(broker_url("user"), connect_timeout=5) as conn:
        channel = conn.default_channel
        channel.queue_declare(queue=queue, auto_delete=False)
        try:
            channel.basic_publish(channel.prepare_message(b"waiting"), routing_key=queue)
            deadline = time.monotonic() + 5
            while not _ready(queue) and time.monotonic() < deadline:
                time.sleep(0.05)
            outbox.sweep()
            assert record_id not in published
            assert _record(record_id).status == "accepted"

            channel.queue_purge(queue)
            outbox.sweep()
            assert record_id in published
        finally:
            channel.queue_delete(queue)
    record = _until_finished(record_id)
    assert (record.status, record.attempts) == ("ok", 2), record.error
