"""The AMQP ingress: its own process kind (`manage.py amqp_ingress --channel user`), never a
worker's consumer loop. Plain JSON envelopes published to `switchboard.ingress.<channel>`
go through the same pipeline as REST; the answer goes to the message's `reply_to`.

Messages are handled by a pool of threads, so one slow or hostile message holds one
thread, not the channel; scale further by running more processes (each one is another
consumer of the same queue). A message is acknowledged once handled: if the process dies
first, the broker hands it to another consumer, and the envelope id makes a second
delivery run the action once.

**Lanes** (fairness between tenants, as the outbox's slots are for the workers). The
ingress queue is first in, first out for everyone: a tenant that publishes 10,000
messages at once would put every other tenant's behind them for as long as the ingress
takes to handle them. So while more than `triage_above` messages wait in the queue, a
process sorts what it takes from it into INGRESS_LANES lane queues by the tenant the
envelope names (a stable hash; lane 0 for none), republished in batches (what the
queue's prefetch hands over at once) with publisher confirms before the originals are
acknowledged: nothing is lost, and a crash in between hands a message over twice, which
its envelope id makes a repeat. Sorting is much faster than handling (one confirm per
batch), so a message behind a flood reaches its lane long before the flood is handled.
Each lane is consumed with a prefetch of LANE_PREFETCH, so the thread pool takes the
lanes in turn: a flood waits in its own lane while another tenant's message, in another
lane, is handled at once (a tenant that shares the flooding tenant's lane, one in
INGRESS_LANES, waits with it).
While the queue is short, messages are handled straight from it, with no republish.

No backpressure here (unlike the REST edge's, actions.edge.fairgate.Backpressure): a
flood is taken in from its lane as fast as the pool goes, and the outbox's slots pace
its execution. Measured with the fairness benchmark over AMQP, pacing lane messages to
the tenant's backlog left the other tenant's p99 no better (docs/performance.md).
"""

import json
import logging
import signal
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import amqp as pyamqp
import pika
from django.conf import settings

from actions.connections import tenant_connections
from actions.contract import envelope
from actions.contract.registry import Channel
from actions.delivery.outbox import ConfirmChannel, Confirms
from actions.delivery.replies import broker_url, is_direct_reply_to, reply
from actions.edge.pipeline import Ingress, submit, unhandled
from actions.edge.ratelimit import SMALL_ANONYMOUS_BYTES
from config.queues import INGRESS_LANES, ingress_lane_queue, ingress_lanes_exchange, ingress_name
from tenants import access_cache
from tenants.tokens import verifies

log = logging.getLogger(__name__)


LANE_PREFETCH = 2  # messages of one lane in a process's hands at once
# An anonymous body over this is not parsed to find its lane (lane 0): big anonymous
# bodies are for the pipeline's byte budget to refuse unparsed.
LANE_PEEK_MAX = SMALL_ANONYMOUS_BYTES
LANE_PEEK_MAX_SIGNED = 64 * 1024  # the same for a message with a bearer token
ROUTING_KEY_HEADER = "x-switchboard-routing-key"  # a lane message's original routing key
DEPTH_EVERY_S = 0.5  # how often a process looks at its queue's depth
CONFIRM_TIMEOUT_S = 10.0  # also each publish's write, should the broker block us
SORT_BATCH = 256  # messages taken from the ingress queue at once while sorting


def declare(pika_channel, channel: str, name: str | None = None) -> str:
    """The ingress exchange and its queue (routing key = action name; the pipeline refuses
    actions of the other channel), and its lanes. Returns the queue's name."""
    name = name or ingress_name(channel)
    pika_channel.exchange_declare(name, exchange_type="topic", durable=True)
    pika_channel.queue_declare(name, durable=True)
    pika_channel.queue_bind(name, name, routing_key="#")
    lanes = ingress_lanes_exchange(name)
    pika_channel.exchange_declare(lanes, exchange_type="direct", durable=True)
    for lane in range(INGRESS_LANES):
        queue = ingress_lane_queue(name, lane)
        pika_channel.queue_declare(queue, durable=True)
        pika_channel.queue_bind(queue, lanes, routing_key=str(lane))
    return name


def lane_of(body: bytes, *, signed: bool = False) -> int:
    """The lane of a message: a stable hash of the tenant its envelope names; lane 0 for
    one that names none, is not JSON, or is too big to be parsed for it here (`signed`:
    it carries an authorization header)."""
    tenant = ""
    if len(body) <= (LANE_PEEK_MAX_SIGNED if signed else LANE_PEEK_MAX):
        try:
            named = json.loads(body).get("tenant")
        except (ValueError, TypeError, AttributeError, RecursionError):
            named = None
        if isinstance(named, str):
            tenant = named
    return zlib.crc32(tenant.encode("utf-8", "replace")) % INGRESS_LANES


def handle(channel: str, body: bytes, properties, routing_key: str | None) -> None:
    """One message through the pipeline; the answer, if final, to its reply_to."""
    with tenant_connections.serving():  # a connection of the process's pool, by tenant
        _handle(channel, body, properties, routing_key)


def _handle(channel: str, body: bytes, properties, routing_key: str | None) -> None:
    correlation_id = properties.correlation_id
    # Only to the sender's own direct reply-to address: a refused reply_to (another client's
    # queue) gets nothing, not even the refusal (logged as a security event instead).
    reply_to = properties.reply_to if is_direct_reply_to(properties.reply_to) else None
    try:
        authorization = (properties.headers or {}).get("authorization")
        if isinstance(authorization, bytes):
            authorization = authorization.decode("utf-8", "replace")
        outcome = submit(
            Ingress(
                channel=Channel(channel),
                body=body,
                authorization=authorization if isinstance(authorization, str) else None,
                transport="amqp",
                source="amqp",
                reply_to=properties.reply_to,
                correlation_id=correlation_id,
                routing_key=routing_key,
            )
        )
        if outcome.finished and reply_to:
            reply(
                reply_to=reply_to,
                correlation_id=correlation_id,
                envelope=outcome.envelope,
                channel=channel,
            )
        elif outcome.unanswered and reply_to:  # a repeat of a running action's message
            late_replies.add(outcome, reply_to=reply_to, correlation_id=correlation_id)
    except Exception:
        log.exception("AMQP ingress failed on a message; replying an error envelope")
        try:  # nothing a message holds may stop this consumer, not even its error reply
            if reply_to:
                reply(
                    reply_to=reply_to,
                    correlation_id=correlation_id,
                    envelope=unhandled("gateway.amqp", envelope.peek(body)),
                    channel=channel,
                )
        except Exception:
            log.exception("AMQP ingress could not answer a failed message")


class LateReplies:
    """The answer to a repeat of a message whose action was running when the repeat came
    (its worker held the record, so no reply target could be added: actions.edge.pipeline)
    is sent from here once the record is finished: the records waited for are read every
    POLL_S, a query per tenant, by one thread that runs only while some wait. A repeat
    waits at most its action's timeout plus the lease's grace (a record still running then
    lost its worker; the sweep runs it again, and the client may send the message again).
    At most MAX_WAITING wait per process; past that the oldest are given up (logged)."""

    POLL_S = 0.1
    MAX_WAITING = 1000
    IDLE_S = 60.0  # the thread ends after this long with nothing to wait for
    WARN_EVERY_S = 10.0  # at most one warning this often while the database is away

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting: list[dict] = []
        self._thread: threading.Thread | None = None
        self._warned_at = 0.0

    def add(self, outcome, *, reply_to: str, correlation_id: str | None) -> None:
        from actions.contract.registry import registry
        from actions.records import LEASE_GRACE_S

        record = outcome.record
        timeout_s = registry.get(record.action, record.version).timeout_s
        waiting = {
            "schema": outcome.schema,
            "record_id": str(record.id),
            "channel": record.channel,
            "tenant": outcome.envelope.get("tenant"),
            "reply_to": reply_to,
            "correlation_id": correlation_id,
            "until": time.monotonic() + timeout_s + LEASE_GRACE_S,
        }
        with self._lock:
            self._waiting.append(waiting)
            if len(self._waiting) > self.MAX_WAITING:
                dropped = self._waiting.pop(0)
                log.warning("gave up the late reply for record %s", dropped["record_id"])
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="late-replies", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        idle_since = None
        while True:
            time.sleep(self.POLL_S)
            with self._lock:
                waiting = list(self._waiting)
                if not waiting:
                    # Kept a while (its broker and database connections with it): repeats
                    # come in bursts. Then it ends, under the lock `add` starts one with.
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > self.IDLE_S:
                        self._thread = None
                        return
                    continue
            idle_since = None
            done: set[int] = set()  # filled as replies go, kept if a later schema fails
            try:
                with tenant_connections.serving():
                    self._answer(waiting, done)
            except Exception:  # the database is away: the next poll tries again
                now = time.monotonic()
                if now - self._warned_at > self.WARN_EVERY_S:
                    self._warned_at = now
                    log.warning("late replies: could not read the records", exc_info=True)
            now = time.monotonic()
            with self._lock:
                expired = [w for w in self._waiting if id(w) not in done and w["until"] <= now]
                self._waiting = [w for w in self._waiting if id(w) not in done and w["until"] > now]
            for w in expired:
                log.warning(
                    "gave up the late reply for record %s (still unfinished)", w["record_id"]
                )

    def _answer(self, waiting: list[dict], done: set[int]) -> None:
        """Reply to those whose record is finished, adding each one answered (its id()) to
        `done` as it goes. A schema that cannot be read (gone) costs only its own."""
        from django_tenants.utils import schema_context

        from actions.connections import dependency_lost
        from actions.models import ActionRecord, RecordStatus
        from actions.outcomes import reply_envelope

        by_schema: dict[str, list[dict]] = {}
        for w in waiting:
            by_schema.setdefault(w["schema"], []).append(w)
        for schema, ones in by_schema.items():
            try:
                with schema_context(schema):
                    finished = {
                        str(r.id): r
                        for r in ActionRecord.objects.filter(
                            id__in={w["record_id"] for w in ones}
                        ).exclude(status__in=[RecordStatus.ACCEPTED, RecordStatus.RUNNING])
                    }
            except Exception as exc:
                if dependency_lost(exc):
                    raise  # the database is away: every schema would fail alike
                log.warning("late replies: cannot read %s; giving its repeats up", schema)
                done.update(id(w) for w in ones)
                continue
            for w in ones:
                record = finished.get(w["record_id"])
                if record is None:
                    continue
                done.add(id(w))  # before the reply: a failed one is not sent twice either
                reply(
                    reply_to=w["reply_to"],
                    correlation_id=w["correlation_id"],
                    envelope=reply_envelope(
                        record,
                        tenant=w["tenant"],
                        correlation_id=w["correlation_id"],
                        schema=schema,
                    ),
                    channel=w["channel"],
                )


late_replies = LateReplies()


class IngressProcess:
    """Consume one channel's ingress queue and its lanes with `threads` handlers until
    stopped. `name`: another ingress queue than the channel's (tests); `triage_above`:
    how many waiting messages turn sorting into lanes on (0: never)."""

    def __init__(
        self,
        channel: str,
        *,
        threads: int = 8,
        name: str | None = None,
        triage_above: int | None = None,
    ):
        self.channel = channel
        self.threads = threads
        self.name = name or ingress_name(channel)
        if triage_above is None:
            triage_above = settings.SWITCHBOARD["INGRESS_TRIAGE_ABOVE"]
        self.triage_above = triage_above
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=f"ingress-{channel}")
        self._stopping = threading.Event()
        self._hand = _InHand()  # this connection's messages in the pool
        self._lost_consumer = False  # the broker cancelled one (its queue was deleted)
        self._redeclare = False  # the lanes did not take a batch: declare them again
        self._triage = False  # sorting the queue into lanes (it is deep)
        self._sorting: list = []  # taken from the queue, for the lanes: (method, props, body)
        self._depth_at = 0.0

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        access_cache.start()  # who may send what, cached while PostgreSQL reports changes
        tenant_connections.configure(self.threads)  # a connection per thread, by tenant
        try:
            self.serve()
        finally:
            tenant_connections.close()

    def serve(self) -> None:
        """Consume until stopped, reconnecting after a lost connection (no signals)."""
        pause = 0.5
        while not self._stopping.is_set():
            try:
                self._consume()
                pause = 0.5
            except Exception:
                if self._stopping.is_set():
                    break
                log.warning("ingress connection lost; reconnecting in %.1f s", pause, exc_info=True)
                self._stopping.wait(pause)
                pause = min(pause * 2, 10.0)
        self._pool.shutdown(wait=True)

    def stop(self) -> None:
        self._stopping.set()  # the consume loop notices within half a second

    def _consume(self) -> None:
        params = pika.URLParameters(broker_url(self.channel))
        params.heartbeat = 30
        connection = pika.BlockingConnection(params)
        lanes = _Lanes(broker_url(self.channel), self.name)
        # Messages of a connection that was lost are the broker's again: whatever the pool
        # still does with them, this connection waits for its own only.
        self._hand = _InHand()
        self._lost_consumer = False
        try:
            inbox = connection.channel()  # the ingress queue
            declare(inbox, self.channel, self.name)
            from_lanes = connection.channel()
            for channel in (inbox, from_lanes):
                channel.add_on_cancel_callback(self._on_cancelled)
            from_lanes.basic_qos(prefetch_count=LANE_PREFETCH)
            tags = [
                (
                    from_lanes,
                    from_lanes.basic_consume(queue, self._on_message(connection, from_lanes)),
                )
                for queue in (ingress_lane_queue(self.name, lane) for lane in range(INGRESS_LANES))
            ]
            on_inbox = self._on_message(connection, inbox, lanes)
            inbox_tag = self._take_inbox(inbox, on_inbox, None)
            log.info("ingress for the %s channel: %d threads", self.channel, self.threads)
            while not self._stopping.is_set():
                connection.process_data_events(time_limit=0.5)
                if self._lost_consumer:  # connect again: the queues are declared anew
                    raise RuntimeError(f"the broker cancelled a consumer of {self.name}")
                if self._redeclare:
                    self._redeclare = False
                    declare(inbox, self.channel, self.name)
                if self._sorting:
                    self._sort(connection, inbox, lanes)
                if self._watch_depth(inbox):
                    inbox_tag = self._take_inbox(inbox, on_inbox, inbox_tag)
            # Stop taking messages; finish those in hand (prefetched ones included) while
            # the connection keeps serving heartbeats and acks; then leave.
            for channel, tag in [*tags, (inbox, inbox_tag)]:
                channel.basic_cancel(tag)
            if self._sorting:
                self._sort(connection, inbox, lanes)
            while self._hand.count:
                connection.process_data_events(time_limit=0.2)
        finally:
            self._sorting = []  # unacknowledged: the broker hands them over again
            lanes.close()
            if connection.is_open:
                connection.close()

    def _on_cancelled(self, _frame) -> None:
        log.error("ingress %s: the broker cancelled a consumer (a queue deleted?)", self.name)
        self._lost_consumer = True

    def _take_inbox(self, inbox, on_message, tag: str | None) -> str:
        """Consume the ingress queue: two messages per thread (one running, one ready)
        while they are handled here, SORT_BATCH at a time while they are sorted into
        lanes. A prefetch holds for the consumers made after it: a change of mode cancels
        the consumer (what it had not dispatched yet goes back to the queue) and makes a
        new one."""
        if tag is not None:
            inbox.basic_cancel(tag)
        inbox.basic_qos(prefetch_count=SORT_BATCH if self._triage else self.threads * 2)
        return str(inbox.basic_consume(self.name, on_message))

    def _watch_depth(self, inbox) -> bool:
        """Sort into lanes while more than `triage_above` messages wait; stop once none do.
        True when that changed."""
        now = time.monotonic()
        if self.triage_above <= 0 or now < self._depth_at:
            return False
        self._depth_at = now + DEPTH_EVERY_S
        waiting = inbox.queue_declare(self.name, passive=True).method.message_count
        if waiting > self.triage_above and not self._triage:
            log.info("ingress %s: %d messages wait; sorting them into lanes", self.name, waiting)
            self._triage = True
            return True
        if waiting == 0 and self._triage:
            log.info("ingress %s: the queue is empty; no more sorting", self.name)
            self._triage = False
            return True
        return False

    def _sort(self, connection, amqp, lanes: "_Lanes") -> None:
        """Move the messages taken from the queue for sorting into their lanes (confirmed),
        then acknowledge them. What the lanes did not take is handled here, in order: a
        message whose properties cannot be written again; the whole batch if the lanes'
        connection failed, or if a lane did not take a message (its queue was deleted:
        the consumers are then cancelled too, and the process connects again). Messages of
        such a batch that did reach a lane are handled twice: the second time the
        pipeline finds the envelope id's record (a repeat; a message refused at the edge
        is refused again)."""
        batch, self._sorting = self._sorting, []
        try:
            left = lanes.publish(batch)
        except Exception:
            log.warning(
                "ingress %s: the lanes did not take %d messages; handling them here",
                self.name,
                len(batch),
                exc_info=True,
            )
            left = batch
        if left is batch:  # a lane, its binding or the exchange may be gone: declare again
            self._redeclare = True
        unmoved = {id(item) for item in left}
        for item in batch:
            method, properties, body = item
            if id(item) in unmoved:
                self._dispatch(connection, amqp, method, properties, body, method.routing_key)
            else:
                amqp.basic_ack(method.delivery_tag)

    def _on_message(self, connection, amqp, lanes: "_Lanes | None" = None):
        """The consumer callback of the ingress queue (`lanes`: where it sorts messages
        while it is deep) or of a lane (None)."""

        def on_message(_channel, method, properties, body):
            if lanes is not None and self._triage:
                self._sorting.append((method, properties, body))
                if len(self._sorting) >= SORT_BATCH:  # the prefetch: all there is
                    self._sort(connection, amqp, lanes)
                return
            routing_key = method.routing_key
            if lanes is None:  # a lane's message: where the client sent it ("" if unknown:
                # refused, rather than the routing key's check skipped)
                routing_key = (properties.headers or {}).get(ROUTING_KEY_HEADER) or ""
                if isinstance(routing_key, bytes):
                    routing_key = routing_key.decode("utf-8", "replace")
            self._dispatch(connection, amqp, method, properties, body, routing_key)

        return on_message

    def _dispatch(self, connection, amqp, method, properties, body, routing_key):
        """Hand a message to the pool; it is acknowledged on the connection's thread once
        handled."""

        hand = self._hand

        def ack(tag):
            try:
                if amqp.is_open:
                    amqp.basic_ack(tag)
            finally:
                hand.done()

        def work():
            try:
                handle(self.channel, body, properties, routing_key)
            finally:
                try:  # acks belong to the connection's thread
                    connection.add_callback_threadsafe(lambda: ack(method.delivery_tag))
                except Exception:  # the connection is gone: the broker redelivers it
                    hand.done()

        hand.took()
        self._pool.submit(work)


class _InHand:
    """How many of one connection's messages the pool has and has not acknowledged."""

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def took(self) -> None:
        with self._lock:
            self.count += 1

    def done(self) -> None:
        with self._lock:
            self.count -= 1


class _Lanes:
    """Publishes messages of an ingress queue into its lanes, a batch at a time with one
    wait for the broker's confirms (py-amqp: pika's blocking channel waits for each
    confirm in turn, which made sorting no faster than handling)."""

    def __init__(self, url: str, name: str):
        self.exchange = ingress_lanes_exchange(name)
        self._broker = ConfirmChannel(lambda: url, prepare=self._prepare)
        self._returned = 0

    def publish(self, batch: list) -> list:
        """Publish `batch` ((method, properties, body) each) into the lanes and wait for
        the confirms. Returns what was not moved: messages whose properties py-amqp cannot
        write (it finds out before it sends anything), or the whole batch when a lane did
        not take a message (its queue is gone). Raises when the connection fails."""
        left = []
        try:
            channel = self._broker.channel()
            self._returned = 0
            confirms = Confirms(channel)
            sent = 0
            for item in batch:
                if self._publish(channel, item):
                    sent += 1
                else:
                    left.append(item)
            confirms.wait(sent, self._broker.connection, timeout=CONFIRM_TIMEOUT_S)
        except Exception:
            self.close()
            raise
        return list(batch) if self._returned else left

    def _publish(self, channel, item) -> bool:
        """One message into its lane. py-amqp writes the properties before it sends a byte,
        so a message it cannot write (a header number pika read that AMQP's table cannot
        hold, headers nested too deep) fails here with nothing sent: it goes again with
        its headers' values written as text (the pipeline reads only `authorization`, a
        string), and is left for the caller only if that fails too."""
        method, properties, body = item
        lane = str(lane_of(body, signed=_signed(properties)))
        for plain in (False, True):
            try:
                channel.basic_publish(
                    _lane_message(method, properties, body, plain=plain),
                    exchange=self.exchange,
                    routing_key=lane,
                    mandatory=True,
                    timeout=CONFIRM_TIMEOUT_S,
                )
                return True
            except (OSError, pyamqp.exceptions.AMQPError):
                raise  # the connection: the whole batch
            except Exception:
                continue
        return False

    def _prepare(self, channel) -> None:
        channel.events["basic_return"] = {self._on_return}

    def _on_return(self, *_returned) -> None:  # before the confirm of the same message
        self._returned += 1

    def close(self) -> None:
        self._broker.close()


def _signed(properties) -> bool:
    """The message carries a token that verifies (cached; no database): a bare header does
    not buy a bigger parse while sorting."""
    header = (properties.headers or {}).get("authorization")
    if isinstance(header, bytes):
        header = header.decode("utf-8", "replace")
    return isinstance(header, str) and verifies(header)


def _lane_message(method, properties, body: bytes, *, plain: bool = False) -> pyamqp.Message:
    """A message of the ingress queue as its lane gets it: the same body and properties
    (but the client's user_id: we publish it), the routing key it came with in a header.
    `plain`: every header's value as text."""
    headers = dict(properties.headers or {})
    if plain:
        headers = {
            str(k): v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
            for k, v in headers.items()
        }
    headers[ROUTING_KEY_HEADER] = method.routing_key
    fields = {
        name: getattr(properties, name)
        for name in (
            "content_type",
            "content_encoding",
            "priority",
            "correlation_id",
            "reply_to",
            "expiration",
            "message_id",
            "timestamp",
            "type",
            "app_id",
        )
        if getattr(properties, name) is not None
    }
    return pyamqp.Message(body, application_headers=headers, delivery_mode=2, **fields)
