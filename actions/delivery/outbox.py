"""Publishing accepted actions to RabbitMQ, after the record is committed (the outbox).

`publish` sends the Celery task for a stored record and marks it published once the
broker confirmed it; `sweep` republishes records that were stored but never marked,
which covers a broker outage or a crash between commit and publish, and records whose
worker lease ran out (see actions.worker.executor).
"""

import atexit
import collections
import itertools
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import amqp
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_tenant_model, schema_context
from kombu import Connection

from actions.connections import connection_ready
from actions.contract.registry import registry
from actions.delivery import fairness
from actions.delivery.replies import broker_url
from actions.models import ActionRecord, RecordStatus
from actions.records import (
    LEASE_GRACE_S,
    lease_expired_before,
    records_mark_published,
    records_still_unpublished,
    records_unpublished,
)
from config.queues import (
    DEAD_LETTER_QUEUES,
    action_queue,
    exchange_name,
    execute_task,
    routing_key,
)
from tenants.platform import slug_for_schema
from tenants.schema_scan import schemas_with_rows

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
    # While a tenant has records held back, how often the thread looks for freed slots.
    REFILL_EVERY_S = 0.005
    # Held-back records kept in memory per tenant; the rest are read from its table.
    HOLD_MAX = 1000
    # A batch the broker did not take (it is down or restarting) is kept and tried again,
    # backing off up to RETRY_MAX_S, so that publishing resumes as soon as the broker is
    # back, not at the sweep's next pass (which runs on a worker, behind the backlog).
    # Past MAX_RETRYING batches the oldest are left to the sweep (it finds every unmarked
    # record in the database), so a long outage does not grow the process without bound.
    RETRY_FIRST_S = 0.5
    RETRY_MAX_S = 5.0
    MAX_RETRYING = 2_000

    def __init__(self, channel: str):
        self.channel = channel
        self._queue: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._broker = ConfirmChannel(lambda: broker_url(self.channel), prepare=self._declare)
        self._handled = threading.Condition()
        self._put = self._done = 0
        self._confirmed: list[Pending] = []  # published, not yet marked
        self._marked_at = time.monotonic()
        # Fair scheduling: tenants (schemas) whose records wait for a slot, in turn.
        self._backlog: collections.OrderedDict[str, _Backlog] = collections.OrderedDict()
        self._refilled_at = 0.0
        self._retrying: list[tuple[list[Pending], bool]] = []  # (batch, slot) to try again
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

    def adopt(self, schema: str) -> None:
        """Take on `schema`'s held-back records: they wait in its table for slots, which
        this publisher's thread gives them as they free up (the sweep hands over the
        backlog of a publisher that died)."""
        self.put(Pending(schema, "", self.channel, "", None))  # no record: "look there"

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
            try:
                batch = [self._queue.get(timeout=self._wait())]
            except queue.Empty:  # idle: time to mark confirmed records, or to refill
                batch = []
            while batch and len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if batch:
                self._send(batch)
            if self._backlog and time.monotonic() - self._refilled_at >= self.REFILL_EVERY_S:
                self._refill()
            if self._confirmed and time.monotonic() - self._marked_at >= self.MARK_EVERY_S:
                self._mark_confirmed()
            if batch:
                with self._handled:
                    self._done += len(batch)
                    self._handled.notify_all()

    def _wait(self) -> float | None:
        """How long the thread may sleep waiting for new records."""
        if self._backlog:
            return self.REFILL_EVERY_S
        wait = self.MARK_EVERY_S if self._confirmed else None
        if self._retrying:
            wait = max(0.0, min(wait or 1e9, self._retry_at - time.monotonic()))
        return wait

    def _send(self, batch: list[Pending]) -> None:
        """Publish what of `batch` may go now. With fair scheduling on, a record goes out
        only with a slot of its tenant (actions.delivery.fairness); the others are held
        back (in memory, in order, and in any case in the records table), and `_refill`
        publishes them as slots free up."""
        slot = False
        for item in batch:
            if not item.record_id:  # adopted: the schema's held-back records, from its table
                self._held(item.schema).more_in_table = True
        batch = [item for item in batch if item.record_id]
        if fairness.cap(self.channel):
            fresh = []
            for item in batch:
                if item.schema in self._backlog:  # behind that tenant's older records
                    self._hold(item)
                else:
                    fresh.append(item)
            wanted: dict[str, list[str]] = {}
            for item in fresh:
                wanted.setdefault(item.schema, []).append(item.record_id)
            grants = fairness.acquire(self.channel, wanted) if wanted else {}
            batch = []
            for item in fresh:
                grant = grants[item.schema]
                if item.record_id in grant.granted:
                    batch.append(item)
                elif item.record_id in grant.refused:
                    self._hold(item)
            slot = any(grant.gated for grant in grants.values())
        self._publish_confirmed(batch, slot=slot)

    def held_back(self, schema: str) -> int:
        """How many of `schema`'s records wait here for a slot (HOLD_MAX once more wait
        in its table only). Read from any thread: a snapshot, not a promise."""
        held = self._backlog.get(schema)
        if held is None:
            return 0
        return self.HOLD_MAX if held.more_in_table else len(held.items)

    def deepest_backlog(self) -> int:
        """The most records any one tenant has waiting here for slots (`held_back`)."""
        return max(map(self.held_back, list(self._backlog)), default=0)

    def _held(self, schema: str) -> "_Backlog":
        if schema not in self._backlog:
            self._backlog[schema] = _Backlog()
        return self._backlog[schema]

    def _hold(self, item: Pending) -> None:
        """Hold a record back until its tenant has a free slot. Past HOLD_MAX a tenant's
        records are left in its table alone, to be read from there in order."""
        held = self._held(item.schema)
        if held.more_in_table or len(held.items) >= self.HOLD_MAX:
            held.more_in_table = True
        else:
            held.items.append(item)

    def _refill(self) -> None:
        """Publish held-back records of the tenants with a backlog as their slots free up,
        in turn over the tenants, oldest first; forget a tenant whose backlog is gone.
        One round trip to Redis, and a read of a tenant's table when what was held back
        in memory ran out."""
        self._refilled_at = time.monotonic()
        limit = fairness.cap(self.channel)
        if not limit:
            self._backlog.clear()
            return
        try:
            for schema, held in self._backlog.items():
                if not held.items and held.more_in_table:
                    connection_ready()
                    rows = records_unpublished(
                        schema=schema, channel=self.channel, limit=self.HOLD_MAX
                    )
                    held.items.extend(
                        Pending(schema, row[0], self.channel, row[1], row[2]) for row in rows
                    )
                    held.from_table.update(row[0] for row in rows)
                    held.more_in_table = len(rows) >= self.HOLD_MAX
        except Exception:
            log.warning("could not read the held-back records", exc_info=True)
            return
        for schema in [s for s, held in self._backlog.items() if not held]:
            del self._backlog[schema]  # nothing left anywhere: no backlog
        wanted = {
            schema: [item.record_id for item in itertools.islice(held.items, limit)]
            for schema, held in self._backlog.items()
        }
        grants = fairness.acquire(self.channel, wanted, serving=True) if wanted else {}
        per_schema: list[list[Pending]] = []
        for schema, grant in grants.items():
            held = self._backlog[schema]
            asked = [held.items.popleft() for _ in wanted[schema]]
            # Refused ones wait at the front; ids holding a slot already are someone else's.
            held.items.extendleft(reversed([i for i in asked if i.record_id in grant.refused]))
            granted = [item for item in asked if item.record_id in grant.granted]
            per_schema.append(self._still_unpublished(schema, held, granted))
            if grant.granted:  # round robin: a tenant served now goes to the back
                self._backlog.move_to_end(schema)  # never missing to a reader (held_back)
        batch = [item for turn in itertools.zip_longest(*per_schema) for item in turn if item]
        self._publish_confirmed(batch, slot=any(g.gated for g in grants.values()))

    def _still_unpublished(self, schema: str, held: "_Backlog", granted: list[Pending]):
        """`granted` without the records read from the table that were published since
        (by the sweep, whose copy may even have run and freed its slot): publishing them
        again would run nothing twice, but would send a task for nothing. Their slots are
        freed."""
        read = [item.record_id for item in granted if item.record_id in held.from_table]
        if not read:
            return granted
        held.from_table.difference_update(read)
        try:
            still = records_still_unpublished(schema=schema, record_ids=read)
        except Exception:
            log.warning("could not check the held-back records", exc_info=True)
            return granted  # published anyway: the worker skips what is already done
        gone = [i for i in read if i not in still]
        fairness.forget(self.channel, schema, gone)
        return [item for item in granted if item.record_id not in gone]

    def _publish_confirmed(self, batch: list[Pending], *, slot: bool) -> None:
        if not batch:
            return
        if self._retrying:  # the broker is away: keep the order, try later
            self._keep(batch, slot)
            return
        try:
            self.publish_batch(batch, mark=False, slot=slot)
            with self._lock:
                self._confirmed.extend(batch)
        except Exception:  # clients have their answer; the records are stored
            log.warning("publish of %d records failed; retrying", len(batch), exc_info=True)
            self._keep(batch, slot)

    def _keep(self, batch: list[Pending], slot: bool) -> None:
        if not self._retrying:
            self._retry_at = time.monotonic() + self._retry_pause
        self._retrying.append((batch, slot))
        if len(self._retrying) > self.MAX_RETRYING:  # the sweep will find the oldest
            del self._retrying[: len(self._retrying) - self.MAX_RETRYING]

    def _retry(self) -> None:
        """Publish the kept batches, oldest first, while the broker takes them."""
        while self._retrying:
            batch, slot = self._retrying[0]
            try:
                self.publish_batch(batch, mark=False, slot=slot)
            except Exception:
                self._retry_pause = min(self._retry_pause * 2, self.RETRY_MAX_S)
                self._retry_at = time.monotonic() + self._retry_pause
                log.info("broker still unavailable; %d batches wait", len(self._retrying))
                return
            del self._retrying[0]
            with self._lock:
                self._confirmed.extend(batch)
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

    def publish_batch(
        self, batch: list[Pending], *, mark: bool = True, slot: bool = False, most: int = 0
    ) -> int:
        """Publish and confirm `batch`, and mark it published unless the caller will.
        `slot`: each record holds a fair-scheduling slot its worker frees. Neighbours of
        one tenant and action share a message, at most `most` (RECORDS_PER_MESSAGE) to one
        (`together`). Returns how many records."""
        messages = together(batch, most=most or settings.SWITCHBOARD["RECORDS_PER_MESSAGE"])
        self.publish_messages(
            [(first, task_message(first, slot=slot, also=also)) for first, *also in messages]
        )
        if mark:
            _mark_published(batch)
        return len(batch)

    def publish_messages(self, messages: list[tuple[Pending, amqp.Message]]) -> None:
        """Publish task messages (each routed as its Pending record), then wait once for
        the broker's confirms of them all."""
        try:
            channel = self._channel()
            acked = Confirms(channel)
            for item, message in messages:
                channel.basic_publish(
                    message,
                    exchange=exchange_name(item.channel),
                    routing_key=routing_key(
                        channel=item.channel,
                        tenant=slug_for_schema(item.schema),
                        action=item.action,
                    ),
                )
            acked.wait(len(messages), self._broker.connection, timeout=self.CONFIRM_TIMEOUT_S)
        except Exception:
            self.close()
            raise

    def _channel(self):
        return self._broker.channel()

    def _declare(self, channel) -> None:
        # The dead-letter exchange first: a quorum action queue dead-letters into it.
        DEAD_LETTER_QUEUES[self.channel](channel).declare()
        for queue_ in settings.CELERY_TASK_QUEUES:  # the one place queues are declared
            if queue_.name == action_queue(self.channel):
                queue_(channel).declare()

    def close(self) -> None:
        """Close the broker connection (the next batch opens a new one)."""
        self._broker.close()


@dataclass
class _Backlog:
    """A tenant's records waiting for slots: the oldest in memory, in order, and whether
    more (newer) wait only in its records table."""

    items: collections.deque[Pending] = field(default_factory=collections.deque)
    more_in_table: bool = False
    from_table: set[str] = field(default_factory=set)  # ids read from the table

    def __bool__(self) -> bool:
        return bool(self.items) or self.more_in_table


class ConfirmChannel:
    """A py-amqp channel in publisher-confirm mode on a connection of its own, opened when
    first used (then `prepare(channel)`: declarations, event handlers) and dropped by
    `close`, after which the next use opens a new one. The outbox's publishers and the
    AMQP ingress's lanes publish their batches on one, waiting once per batch for the
    broker's confirms (`Confirms`)."""

    def __init__(self, url: Callable[[], str], *, prepare: Callable[[Any], None] | None = None):
        self._url = url
        self._prepare = prepare
        self.connection: Connection | None = None

    def channel(self) -> Any:
        if self.connection is None:
            connection = Connection(self._url(), connect_timeout=5)
            try:
                connection.ensure_connection(max_retries=1)
                channel: Any = connection.default_channel  # py-amqp's channel under kombu's
                channel.confirm_select()
                if self._prepare is not None:
                    self._prepare(channel)
            except Exception:
                connection.close()
                raise
            self.connection = connection
        return self.connection.default_channel

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:
                pass
        self.connection = None


class Confirms:
    """Counts the broker's publisher confirms on a py-amqp channel in confirm mode (acks
    may cover many at once), for one batch of publishes: make it before the batch's first
    publish, `wait` after the last (also used by the AMQP ingress's lanes)."""

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


def together(batch: list[Pending], *, most: int) -> list[list[Pending]]:
    """`batch` in the messages that carry it: neighbours of the same tenant, channel and
    action (so the same routing key) share one, at most `most` to a message, in order."""
    messages: list[list[Pending]] = []
    for item in batch:
        last = messages[-1] if messages else None
        if (
            last is not None
            and len(last) < most
            and (last[0].schema, last[0].channel, last[0].action)
            == (item.schema, item.channel, item.action)
        ):
            last.append(item)
        else:
            messages.append([item])
    return messages


class PublishFailed(Exception):
    """The broker did not take (or confirm) what a worker published."""


def publish_apart(
    *,
    channel: str,
    schema: str,
    action: str,
    records: list[tuple[str, Any]],
    slot: bool,
) -> None:
    """Publish each of `records` ((id, sender)) in a task message of its own, flagged as
    redelivered: a worker splits the message that carried them when RabbitMQ redelivers
    it (actions.worker.tasks). Waits for the broker's confirms; PublishFailed if it did
    not take them all (the caller requeues the message it split)."""
    publisher = Publisher(channel)
    messages = []
    for record_id, actor_id in records:
        item = Pending(schema, record_id, channel, action, actor_id)
        message = task_message(item, slot=slot, redelivered=True)
        messages.append((item, message))
    try:
        publisher.publish_messages(messages)
    except Exception as exc:
        raise PublishFailed(f"could not publish {len(messages)} records apart") from exc
    finally:
        publisher.close()


def task_message(
    item: Pending,
    *,
    slot: bool = False,
    also: Sequence[Pending] = (),
    redelivered: bool = False,
) -> amqp.Message:
    """The Celery task message (protocol 2) that runs `item` on its channel's worker, as
    Celery's send_task would build it (a test runs it through a real worker). Built by
    hand: send_task's routing and option merging cost more than the rest of the edge.
    `slot`: the record holds a fair-scheduling slot, which the worker frees when done.
    `also`: more records of the same tenant, channel and action that the message carries
    (`together`). `redelivered`: a copy of a redelivered message's record
    (`publish_apart`)."""
    task_id = str(uuid.uuid4())
    args = [item.schema, item.record_id]
    kwargs: dict[str, Any] = {"actor_id": item.actor_id}
    if slot:
        kwargs["slot"] = True
    if also:
        kwargs["also"] = [[other.record_id, other.actor_id] for other in also]
    if redelivered:  # a copy of a redelivered message's record (actions.worker.tasks)
        kwargs["redelivered"] = True
    # Protocol 2's headers, less those whose absence Celery's Request reads as their
    # default (shadow, eta, expires, group, group_index, parent_id: None; retries: 0;
    # timelimit: none): py-amqp writes every entry of the table field by field, in Python,
    # on the web's publisher thread, and the worker reads each back (about 7 % of the
    # web's CPU went to the table, docs/performance.md).
    headers = {
        "lang": "py",
        "task": execute_task(item.channel),
        "id": task_id,
        "root_id": task_id,
        "argsrepr": repr(args),
        "kwargsrepr": repr(kwargs),
        "origin": _ORIGIN,
        "ignore_result": True,
        "tenant": item.schema,
        "action": item.action,
    }
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    return amqp.Message(
        json.dumps([args, kwargs, embed]),
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        priority=0,
        correlation_id=task_id,
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


def held_back(channel: str, schema: str) -> int:
    """How many of a tenant's records this process holds back for fair-scheduling slots."""
    found = _publishers.get(channel)
    return found.held_back(schema) if found is not None else 0


def deepest_backlog(channel: str) -> int:
    """The most records one tenant has held back for slots in this process (0: none)."""
    found = _publishers.get(channel)
    return found.deepest_backlog() if found is not None else 0


def record_schemas() -> list[str]:
    """Every schema that holds action records: public (platform) and each tenant's."""
    return [settings.PUBLIC_SCHEMA_NAME] + list(
        get_tenant_model()
        .objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .values_list("schema_name", flat=True)
    )


def sweep(*, older_than_s: float | None = None) -> int:
    """Republish, in every schema, the records stored but never published and the running
    ones whose lease ran out (their worker died or could not record the result). With fair
    scheduling on, each goes out only with a slot of its tenant, and the slots of records
    that are finished or gone are freed first (`fairness.reconcile` of the records' truth)."""
    connection_ready()
    grace = settings.SWITCHBOARD["OUTBOX_GRACE_SECONDS"] if older_than_s is None else older_than_s
    now = timezone.now()
    count = 0
    schemas = record_schemas()
    # Every slot held now, per channel and schema, in one round trip per channel.
    held = {c: fairness.held(c, schemas) for c in ("user", "admin") if fairness.cap(c)}
    # Tenants whose backlog a live publisher works through: their unpublished records are
    # its to publish (the sweep still takes over records running past their lease).
    served = {c: fairness.served(c, schemas) for c in held}
    # Only the schemas with something to do are visited: stale records (found for all
    # schemas in a few queries) or slots to reconcile.
    visit = schemas_with_rows(
        schemas,
        table=ActionRecord._meta.db_table,
        where=_STALE,
        params={
            "accepted": RecordStatus.ACCEPTED,
            "created_before": now - timedelta(seconds=grace),
            "running": RecordStatus.RUNNING,
            "started_before": now - timedelta(seconds=LEASE_GRACE_S),
        },
    )
    visit.update(schema for ids in held.values() for schema in ids)
    for schema in [s for s in schemas if s in visit]:
        with schema_context(schema):
            _reconcile_slots(schema, {c: ids[schema] for c, ids in held.items() if schema in ids})
            unpublished = ActionRecord.objects.filter(
                published_at__isnull=True,
                status=RecordStatus.ACCEPTED,
                created_at__lt=now - timedelta(seconds=grace),
            )
            running = ActionRecord.objects.filter(
                status=RecordStatus.RUNNING,
                started_at__lt=now - timedelta(seconds=LEASE_GRACE_S),
            )
            with transaction.atomic():  # rows a worker holds are running now: not stale
                waiting = list(
                    unpublished.order_by("created_at").select_for_update(skip_locked=True)[:500]
                )
            stale = waiting + [
                record
                for record in running.order_by("started_at")[:500]
                if record.started_at
                < lease_expired_before(registry.get(record.action, record.version), now)
            ]
        batch = [Pending.of(record, schema=schema) for record in stale]
        running_ids = {str(r.id) for r in stale if r.status == RecordStatus.RUNNING}
        for channel in ("user", "admin"):
            mine = [item for item in batch if item.channel == channel]
            if schema in served.get(channel, ()):
                mine = [item for item in mine if item.record_id in running_ids]
            slot = False
            if mine and fairness.cap(channel):
                # A slot taken more than `grace` ago by a record still unpublished (or
                # running past its lease) belongs to a publisher (or worker) that died.
                grant = fairness.acquire(
                    channel,
                    {schema: [item.record_id for item in mine]},
                    refresh_before=now.timestamp() - grace,
                )[schema]
                if grant.refused:  # the rest wait for slots, given by this process's publisher
                    publisher(channel).adopt(schema)
                mine = [item for item in mine if item.record_id in grant.granted]
                slot = grant.gated
            if mine:  # in the sweeper's own thread: it reports what the broker confirmed
                sweeper = Publisher(channel)
                try:
                    # One to a message: a stale record may be a poison one, and a
                    # message it shared would be split again at each of its crashes.
                    count += sweeper.publish_batch(mine, slot=slot, most=1)
                except Exception:
                    log.warning("the sweep could not publish %d records", len(mine), exc_info=True)
                finally:
                    sweeper.close()
    connection.close_if_unusable_or_obsolete()
    return count


# A record the sweep may have to publish again: what the two queries of `sweep` look for
# (the partial indexes `record_unpublished` and `record_running` serve them).
_STALE = (
    "(published_at IS NULL AND status = %(accepted)s AND created_at < %(created_before)s)"
    " OR (status = %(running)s AND started_at < %(started_before)s)"
)


def _reconcile_slots(schema: str, held: dict[str, list[str]]) -> None:
    """Free the fair-scheduling slots (`held`: record ids per channel) of `schema`'s records
    that are finished or gone (a worker died after committing, or Redis missed its
    release): the records are the truth."""
    for channel, ids in held.items():
        alive = {
            str(i)
            for i in ActionRecord.objects.filter(
                id__in=ids, status__in=[RecordStatus.ACCEPTED, RecordStatus.RUNNING]
            ).values_list("id", flat=True)
        }
        fairness.forget(channel, schema, [i for i in ids if i not in alive])
