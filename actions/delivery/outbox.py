"""Publishing accepted actions to RabbitMQ, after the record is committed (the outbox).

`publish` sends the Celery task for a stored record and marks it published once the
broker confirmed it; `sweep` republishes records that were stored but never marked,
which covers a broker outage or a crash between commit and publish, and records whose
worker lease ran out (see actions.worker.executor).
"""

import atexit
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import amqp
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_tenant_model, schema_context
from kombu import Connection

from actions.connections import connection_ready
from actions.contract.registry import registry
from actions.delivery.replies import broker_url
from actions.models import ActionRecord, RecordStatus
from actions.records import LEASE_GRACE_S, lease_expired_before, records_mark_published
from config.queues import (
    DEAD_LETTER_QUEUES,
    action_queue,
    exchange_name,
    execute_task,
    routing_key,
)
from tenants.platform import slug_for_schema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """A stored record waiting to be published."""

    schema: str
    record_id: str
    channel: str
    action: str
    actor_id: int | None  # the sender (None: anonymous), so the worker reads access early

    @classmethod
    def of(cls, record: ActionRecord, *, schema: str) -> "Pending":
        return cls(
            schema=schema,
            record_id=str(record.id),
            channel=record.channel,
            action=record.action,
            actor_id=record.actor_id,
        )


class Publisher:
    """Publishes one channel's tasks in batches: every task of a batch is sent, then the
    broker's confirms are awaited once for the whole batch (publisher confirms with
    `multiple` acks). Confirmed records are marked published together, one UPDATE per
    schema at most every MARK_EVERY_S: the mark only keeps the sweep (which waits
    OUTBOX_GRACE_SECONDS) from publishing a record again, so it need not be immediate.
    A batch that fails stays unmarked, and the sweep publishes it again."""

    MAX_BATCH = 256
    CONFIRM_TIMEOUT_S = 5.0
    MARK_EVERY_S = 0.1
    # A batch the broker did not take (it is down or restarting) is kept and tried again,
    # backing off up to RETRY_MAX_S, so that publishing resumes as soon as the broker is
    # back, not at the sweep's next pass (which runs on a worker, behind the backlog).
    # Past MAX_RETRYING records the oldest are left to the sweep (it finds every unmarked
    # record in the database), so a long outage does not grow the process without bound.
    RETRY_FIRST_S = 0.5
    RETRY_MAX_S = 5.0
    MAX_RETRYING = 20_000

    def __init__(self, channel: str):
        self.channel = channel
        self._queue: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._handled = threading.Condition()
        self._put = self._done = 0
        self._confirmed: list[Pending] = []  # published, not yet marked
        self._marked_at = time.monotonic()
        self._retrying: list[Pending] = []  # refused by the broker, to be tried again
        self._retry_at = 0.0
        self._retry_pause = self.RETRY_FIRST_S

    def put(self, item: Pending) -> None:
        """Hand a stored record over for publishing (returns at once)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"outbox-{self.channel}", daemon=True
                )
                self._thread.start()
                atexit.register(self._flush_at_exit)
            self._put += 1
        self._queue.put(item)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every record handed over so far was published or failed to be."""
        with self._lock:
            target = self._put
        with self._handled:
            return self._handled.wait_for(lambda: self._done >= target, timeout=timeout)

    def _flush_at_exit(self) -> None:
        self.flush()
        self._mark_confirmed()

    def _run(self) -> None:
        while True:
            if self._retrying and time.monotonic() >= self._retry_at:
                self._retry()
                continue
            try:
                wait = self.MARK_EVERY_S if self._confirmed else None
                if self._retrying:
                    wait = max(0.0, min(wait or 1e9, self._retry_at - time.monotonic()))
                batch = [self._queue.get(timeout=wait)]
            except queue.Empty:  # idle with confirmed records: mark them now
                self._mark_confirmed()
                continue
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._retrying:  # the broker is away: keep the order, try later
                self._keep(batch)
            else:
                try:
                    self.publish_batch(batch, mark=False)
                    with self._lock:
                        self._confirmed.extend(batch)
                except Exception:  # clients have their answer; the records are stored
                    log.warning("publish of %d records failed; retrying", len(batch), exc_info=True)
                    self._keep(batch)
            if time.monotonic() - self._marked_at >= self.MARK_EVERY_S:
                self._mark_confirmed()
            with self._handled:
                self._done += len(batch)
                self._handled.notify_all()

    def _keep(self, batch: list[Pending]) -> None:
        if not self._retrying:
            self._retry_at = time.monotonic() + self._retry_pause
        self._retrying.extend(batch)
        if len(self._retrying) > self.MAX_RETRYING:  # the sweep will find the oldest
            del self._retrying[: len(self._retrying) - self.MAX_RETRYING]

    def _retry(self) -> None:
        """Publish the kept records, oldest first, while the broker takes them."""
        while self._retrying:
            batch = self._retrying[: self.MAX_BATCH]
            try:
                self.publish_batch(batch, mark=False)
            except Exception:
                self._retry_pause = min(self._retry_pause * 2, self.RETRY_MAX_S)
                self._retry_at = time.monotonic() + self._retry_pause
                log.info("broker still unavailable; %d records wait", len(self._retrying))
                return
            del self._retrying[: len(batch)]
            with self._lock:
                self._confirmed.extend(batch)
            if time.monotonic() - self._marked_at >= self.MARK_EVERY_S:
                self._mark_confirmed()
        self._retry_pause = self.RETRY_FIRST_S
        log.info("broker back: the records kept during its absence are published")

    def _mark_confirmed(self) -> None:
        with self._lock:
            confirmed, self._confirmed = self._confirmed, []
        self._marked_at = time.monotonic()
        if confirmed:
            try:
                _mark_published(confirmed)
            except Exception:  # unmarked records are published again by the sweep: harmless
                log.warning("could not mark %d records published", len(confirmed), exc_info=True)

    def publish_batch(self, batch: list[Pending], *, mark: bool = True) -> int:
        """Publish and confirm `batch`, and mark it published unless the caller will.
        Returns how many."""
        try:
            channel = self._channel()
            acked = _Confirms(channel)
            for item in batch:
                channel.basic_publish(
                    task_message(item),
                    exchange=exchange_name(item.channel),
                    routing_key=routing_key(
                        channel=item.channel,
                        tenant=slug_for_schema(item.schema),
                        action=item.action,
                    ),
                )
            acked.wait(len(batch), self._connection, timeout=self.CONFIRM_TIMEOUT_S)
        except Exception:
            self.close()
            raise
        if mark:
            _mark_published(batch)
        return len(batch)

    def _channel(self):
        if self._connection is None:
            connection = Connection(broker_url(self.channel), connect_timeout=5)
            connection.ensure_connection(max_retries=1)
            channel: Any = connection.default_channel  # py-amqp's channel under kombu's
            channel.confirm_select()
            # The dead-letter exchange first: a quorum action queue dead-letters into it.
            DEAD_LETTER_QUEUES[self.channel](channel).declare()
            for queue_ in settings.CELERY_TASK_QUEUES:  # the one place queues are declared
                if queue_.name == action_queue(self.channel):
                    queue_(channel).declare()
            self._connection = connection
        return self._connection.default_channel

    def close(self) -> None:
        """Close the broker connection (the next batch opens a new one)."""
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
        self._connection = None


class _Confirms:
    """Counts the broker's publisher confirms on a channel (acks may cover many at once)."""

    def __init__(self, channel):
        self.nacked = 0
        self._first_tag = getattr(channel, "_confirm_tag", 0) + 1
        self._upto = 0  # every tag up to this one is confirmed (a `multiple` ack)
        self._singles: set[int] = set()  # tags confirmed one by one
        channel.events["basic_ack"] = {self._ack}
        channel.events["basic_nack"] = {self._nack}
        self._channel = channel

    def _ack(self, delivery_tag, multiple):
        if multiple:
            self._upto = max(self._upto, delivery_tag)
        else:
            self._singles.add(delivery_tag)

    def _nack(self, delivery_tag, multiple):
        self.nacked += 1

    def unconfirmed(self, count: int) -> int:
        tags = range(max(self._first_tag, self._upto + 1), self._first_tag + count)
        return sum(1 for tag in tags if tag not in self._singles)

    def wait(self, count: int, connection, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.unconfirmed(count) and not self.nacked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.unconfirmed(count)} publishes unconfirmed")
            connection.drain_events(timeout=left)
        self._channel._confirm_tag = self._first_tag + count - 1
        if self.nacked:
            raise RuntimeError("the broker refused a publish (nack)")


_ORIGIN = f"{socket.gethostname()}:{os.getpid()}"


def task_message(item: Pending) -> amqp.Message:
    """The Celery task message (protocol 2) that runs `item` on its channel's worker, as
    Celery's send_task would build it (a test runs it through a real worker). Built by
    hand: send_task's routing and option merging cost more than the rest of the edge."""
    task_id = str(uuid.uuid4())
    args = [item.schema, item.record_id]
    headers = {
        "lang": "py",
        "task": execute_task(item.channel),
        "id": task_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": task_id,
        "parent_id": None,
        "argsrepr": repr(args),
        "kwargsrepr": repr({"actor_id": item.actor_id}),
        "origin": _ORIGIN,
        "ignore_result": True,
        "tenant": item.schema,
        "action": item.action,
    }
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    return amqp.Message(
        json.dumps([args, {"actor_id": item.actor_id}, embed]),
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        priority=0,
        correlation_id=task_id,
        reply_to="",
        application_headers=headers,
    )


def _mark_published(batch: list[Pending]) -> None:
    connection_ready()  # the publisher's own thread: drop a connection a restart broke
    by_schema: dict[str, list[str]] = {}
    for item in batch:
        by_schema.setdefault(item.schema, []).append(item.record_id)
    for schema, ids in by_schema.items():
        records_mark_published(schema=schema, record_ids=ids)


_publishers: dict[str, Publisher] = {}
_publishers_lock = threading.Lock()


def publisher(channel: str) -> Publisher:
    with _publishers_lock:
        if channel not in _publishers:
            _publishers[channel] = Publisher(channel)
        return _publishers[channel]


def publish(*, schema: str, record: ActionRecord) -> None:
    """Queue the task of a committed record for publishing (the outbox's fast path)."""
    publisher(record.channel).put(Pending.of(record, schema=schema))


def record_schemas() -> list[str]:
    """Every schema that holds action records: public (platform) and each tenant's."""
    return [settings.PUBLIC_SCHEMA_NAME] + list(
        get_tenant_model()
        .objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .values_list("schema_name", flat=True)
    )


def sweep(*, older_than_s: float | None = None) -> int:
    """Republish, in every schema, the records stored but never published and the running
    ones whose lease ran out (their worker died or could not record the result)."""
    connection_ready()
    grace = settings.SWITCHBOARD["OUTBOX_GRACE_SECONDS"] if older_than_s is None else older_than_s
    now = timezone.now()
    count = 0
    for schema in record_schemas():
        with schema_context(schema):
            unpublished = ActionRecord.objects.filter(
                published_at__isnull=True,
                status=RecordStatus.ACCEPTED,
                created_at__lt=now - timedelta(seconds=grace),
            )
            running = ActionRecord.objects.filter(
                status=RecordStatus.RUNNING,
                started_at__lt=now - timedelta(seconds=LEASE_GRACE_S),
            )
            stale = list(unpublished.order_by("created_at")[:500]) + [
                record
                for record in running.order_by("started_at")[:500]
                if record.started_at
                < lease_expired_before(registry.get(record.action, record.version), now)
            ]
        batch = [Pending.of(record, schema=schema) for record in stale]
        for channel in ("user", "admin"):
            mine = [item for item in batch if item.channel == channel]
            if mine:  # in the sweeper's own thread: it reports what the broker confirmed
                sweeper = Publisher(channel)
                try:
                    count += sweeper.publish_batch(mine)
                except Exception:
                    log.warning("the sweep could not publish %d records", len(mine), exc_info=True)
                finally:
                    sweeper.close()
    connection.close_if_unusable_or_obsolete()
    return count
