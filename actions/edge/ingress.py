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
envelope names (a stable hash; lane 0 for none), republished with a publisher confirm
before the original is acknowledged: nothing is lost, and a crash in between hands the
message over twice, which its envelope id makes a repeat. Each lane is consumed with a
prefetch of LANE_PREFETCH, so the thread pool takes the lanes in turn: a flood waits in
its own lane while another tenant's message, in another lane, is handled at once (a
tenant that shares the flooding tenant's lane, one in INGRESS_LANES, waits with it).
While the queue is short, messages are handled straight from it, with no republish.

**Backpressure**, as at the REST edge (actions.edge.fairgate.Backpressure): a lane's
message for a tenant with more than EDGE_BACKLOG_LIMIT records held back for slots in
this process waits (at most BACKPRESSURE_WAIT_S) until there is room, so that a flood is
admitted at the pace it runs rather than spending the CPU everyone's actions need.
"""

import json
import logging
import signal
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pika
from django.conf import settings

from actions.connections import connection_ready
from actions.contract import envelope
from actions.contract.registry import Channel
from actions.delivery import outbox
from actions.delivery.replies import broker_url, is_direct_reply_to, reply
from actions.edge.fairgate import named_schema
from actions.edge.pipeline import Ingress, submit, unhandled
from config.queues import INGRESS_LANES, ingress_lane_queue, ingress_lanes_exchange, ingress_name
from tenants import access_cache

log = logging.getLogger(__name__)


LANE_PREFETCH = 2  # messages of one lane in a process's hands at once
LANE_PEEK_MAX = 64 * 1024  # a bigger body is not parsed to find its lane: lane 0
ROUTING_KEY_HEADER = "x-switchboard-routing-key"  # a lane message's original routing key
BACKPRESSURE_WAIT_S = 5.0
DEPTH_EVERY_S = 0.5  # how often a process looks at its queue's depth


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


def lane_of(body: bytes) -> int:
    """The lane of a message: a stable hash of the tenant its envelope names; lane 0 for
    one that names none, is not JSON, or is too big to be parsed for it here."""
    tenant = ""
    if len(body) <= LANE_PEEK_MAX:
        try:
            named = json.loads(body).get("tenant")
        except (ValueError, TypeError, AttributeError, RecursionError):
            named = None
        if isinstance(named, str):
            tenant = named
    return zlib.crc32(tenant.encode("utf-8", "replace")) % INGRESS_LANES


def handle(channel: str, body: bytes, properties, routing_key: str | None) -> None:
    """One message through the pipeline; the answer, if final, to its reply_to."""
    correlation_id = properties.correlation_id
    # Only to the sender's own direct reply-to address: a refused reply_to (another client's
    # queue) gets nothing, not even the refusal (logged as a security event instead).
    reply_to = properties.reply_to if is_direct_reply_to(properties.reply_to) else None
    connection_ready()  # a connection left broken (e.g. by a database restart) is dropped
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
        self._in_hand = 0  # messages handed to the pool and not yet acknowledged
        self._count_lock = threading.Lock()
        self._triage = False  # sorting the queue into lanes (it is deep)
        self._depth_at = 0.0

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        access_cache.start()  # who may send what, cached while PostgreSQL reports changes
        self.serve()

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
        try:
            amqp = connection.channel()
            queue = declare(amqp, self.channel, self.name)
            to_lanes = connection.channel()
            to_lanes.confirm_delivery()
            # Two messages per thread: one running, one ready, none starving others.
            amqp.basic_qos(prefetch_count=self.threads * 2)
            tags = [amqp.basic_consume(queue, self._on_message(connection, amqp, to_lanes))]
            amqp.basic_qos(prefetch_count=LANE_PREFETCH)  # for the consumers made after
            for lane in range(INGRESS_LANES):
                lane_queue = ingress_lane_queue(self.name, lane)
                tags.append(amqp.basic_consume(lane_queue, self._on_message(connection, amqp)))
            log.info("ingress for the %s channel: %d threads", self.channel, self.threads)
            while not self._stopping.is_set():
                connection.process_data_events(time_limit=0.5)
                self._watch_depth(amqp)
            # Stop taking messages; finish those in hand (prefetched ones included) while
            # the connection keeps serving heartbeats and acks; then leave.
            for tag in tags:
                amqp.basic_cancel(tag)
            while self._in_hand:
                connection.process_data_events(time_limit=0.2)
        finally:
            if connection.is_open:
                connection.close()

    def _watch_depth(self, amqp) -> None:
        """Sort into lanes while more than `triage_above` messages wait; stop once none do."""
        now = time.monotonic()
        if self.triage_above <= 0 or now < self._depth_at:
            return
        self._depth_at = now + DEPTH_EVERY_S
        waiting = amqp.queue_declare(self.name, passive=True).method.message_count
        if waiting > self.triage_above and not self._triage:
            log.info("ingress %s: %d messages wait; sorting them into lanes", self.name, waiting)
            self._triage = True
        elif waiting == 0 and self._triage:
            log.info("ingress %s: the queue is empty; no more sorting", self.name)
            self._triage = False

    def _to_lane(self, to_lanes, amqp, method, properties, body: bytes) -> bool:
        """Republish a message of the queue into its lane (confirmed), then acknowledge it.
        False: the lane did not take it (it is then handled here)."""
        headers = dict(properties.headers or {})
        headers[ROUTING_KEY_HEADER] = method.routing_key
        copy = pika.BasicProperties(  # the client's user_id is left out: we publish it
            content_type=properties.content_type,
            content_encoding=properties.content_encoding,
            headers=headers,
            delivery_mode=pika.DeliveryMode.Persistent,
            priority=properties.priority,
            correlation_id=properties.correlation_id,
            reply_to=properties.reply_to,
            expiration=properties.expiration,
            message_id=properties.message_id,
            timestamp=properties.timestamp,
            type=properties.type,
            app_id=properties.app_id,
        )
        lane = lane_of(body)
        try:
            to_lanes.basic_publish(
                ingress_lanes_exchange(self.name), str(lane), body, copy, mandatory=True
            )
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError):
            log.warning("ingress %s: lane %d did not take a message", self.name, lane)
            return False
        amqp.basic_ack(method.delivery_tag)
        return True

    def _room_for(self, body: bytes) -> None:
        """Backpressure (the module docstring): wait while the tenant named has more than
        EDGE_BACKLOG_LIMIT records held back here, at most BACKPRESSURE_WAIT_S."""
        limit = settings.SWITCHBOARD["EDGE_BACKLOG_LIMIT"]
        if limit <= 0 or outbox.deepest_backlog(self.channel) <= limit:
            return
        schema = named_schema(body)
        if schema is None:
            return
        deadline = time.monotonic() + BACKPRESSURE_WAIT_S
        while outbox.held_back(self.channel, schema) > limit and time.monotonic() < deadline:
            if self._stopping.wait(0.01):
                return

    def _on_message(self, connection, amqp, to_lanes=None):
        """The consumer callback of the ingress queue (`to_lanes`: its lanes' publishing
        channel) or of a lane (None)."""

        def ack(tag):
            try:
                if amqp.is_open:
                    amqp.basic_ack(tag)
            finally:
                with self._count_lock:
                    self._in_hand -= 1

        def on_message(_channel, method, properties, body):
            if to_lanes is not None and self._triage:
                if self._to_lane(to_lanes, amqp, method, properties, body):
                    return
            routing_key = method.routing_key
            if to_lanes is None:  # a lane's message: where the client sent it
                routing_key = (properties.headers or {}).get(ROUTING_KEY_HEADER)
                if isinstance(routing_key, bytes):
                    routing_key = routing_key.decode("utf-8", "replace")

            def work():
                try:
                    if to_lanes is None:
                        self._room_for(body)
                    handle(self.channel, body, properties, routing_key)
                finally:
                    try:  # acks belong to the connection's thread
                        connection.add_callback_threadsafe(lambda: ack(method.delivery_tag))
                    except Exception:  # the connection is gone: the broker redelivers it
                        with self._count_lock:
                            self._in_hand -= 1

            with self._count_lock:
                self._in_hand += 1
            self._pool.submit(work)

        return on_message
