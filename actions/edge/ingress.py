"""The AMQP ingress: its own process kind (`manage.py amqp_ingress --channel user`), never a
worker's consumer loop. Plain JSON envelopes published to `switchboard.ingress.<channel>`
go through the same pipeline as REST; the answer goes to the message's `reply_to`.

Messages are handled by a pool of threads, so one slow or hostile message holds one
thread, not the channel; scale further by running more processes (each one is another
consumer of the same queue). A message is acknowledged once handled: if the process dies
first, the broker hands it to another consumer, and the envelope id makes a second
delivery run the action once.
"""

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pika

from actions.connections import connection_ready
from actions.contract import envelope
from actions.contract.registry import Channel
from actions.delivery.replies import broker_url, is_direct_reply_to, reply
from actions.edge.pipeline import Ingress, submit, unhandled
from config.queues import ingress_name
from tenants import access_cache

log = logging.getLogger(__name__)


def declare(pika_channel, channel: str) -> str:
    """The ingress exchange and its queue (routing key = action name; the pipeline refuses
    actions of the other channel). Returns the queue's name."""
    name = ingress_name(channel)
    pika_channel.exchange_declare(name, exchange_type="topic", durable=True)
    pika_channel.queue_declare(name, durable=True)
    pika_channel.queue_bind(name, name, routing_key="#")
    return name


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
    """Consume one channel's ingress queue with `threads` handlers until stopped."""

    def __init__(self, channel: str, *, threads: int = 8):
        self.channel = channel
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=f"ingress-{channel}")
        self._stopping = threading.Event()
        self._in_hand = 0  # messages handed to the pool and not yet acknowledged
        self._count_lock = threading.Lock()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        access_cache.start()  # who may send what, cached while PostgreSQL reports changes
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
            queue = declare(amqp, self.channel)
            # Two messages per thread: one running, one ready, none starving others.
            amqp.basic_qos(prefetch_count=self.threads * 2)
            tag = amqp.basic_consume(queue, self._on_message(connection, amqp))
            log.info("ingress for the %s channel: %d threads", self.channel, self.threads)
            while not self._stopping.is_set():
                connection.process_data_events(time_limit=0.5)
            # Stop taking messages; finish those in hand (prefetched ones included) while
            # the connection keeps serving heartbeats and acks; then leave.
            amqp.basic_cancel(tag)
            while self._in_hand:
                connection.process_data_events(time_limit=0.2)
        finally:
            if connection.is_open:
                connection.close()

    def _on_message(self, connection, amqp):
        def ack(tag):
            try:
                if amqp.is_open:
                    amqp.basic_ack(tag)
            finally:
                with self._count_lock:
                    self._in_hand -= 1

        def on_message(_channel, method, properties, body):
            def work():
                try:
                    handle(self.channel, body, properties, method.routing_key)
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
