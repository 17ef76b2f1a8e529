"""Reply waiters: a REST client sent `?wait=N` and waits for the action's answer.

Waiting holds neither a thread nor a database connection. Each web process owns one
exclusive, server-named reply queue (`amq.gen-*`) that a single background thread
consumes; the process puts that queue in the record's reply targets, and the worker
publishes the finished envelope there as it does for AMQP clients (actions.delivery.replies).
A waiter is an asyncio future keyed by a correlation id of its own; the consumer thread
resolves it on the event loop that created it.

When the broker connection drops, the queue (and any reply in it) is gone: the thread
reconnects with a new queue, and a waiter whose reply never came reads the record once
when its time is up (actions.edge.gateway), so an answer is never lost, only late.
"""

import asyncio
import json
import logging
import socket
import threading
import time
import uuid

from django.conf import settings
from kombu import Connection

log = logging.getLogger(__name__)
HEARTBEAT_S = 30


class ReplyWaiters:
    def __init__(self, url: str):
        self._url = url
        self._lock = threading.Lock()
        self._futures: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._ready = threading.Event()
        self._queue: str | None = None
        self._thread: threading.Thread | None = None
        self._connection: Connection | None = None  # the consumer thread's, while it runs
        self._stopping = False
        self._was_up = False

    # --- the event loop's side -----------------------------------------------------------
    def queue(self, timeout: float = 2.0) -> str | None:
        """The reply queue's name; None while there is none (the broker is away: the caller
        answers 202 and the client polls). Only the call that starts the consumer waits,
        up to `timeout`, for it: later ones never block a request."""
        if self._start():
            self._ready.wait(timeout)
        return self._queue if self._ready.is_set() else None

    @property
    def ready_queue(self) -> str | None:
        """The reply queue's name if the consumer is up (never blocks, never starts it)."""
        return self._queue if self._ready.is_set() else None

    def register(self) -> tuple[str, asyncio.Future]:
        """A new waiter on the running loop: (its correlation id, its future)."""
        loop = asyncio.get_running_loop()
        correlation_id = uuid.uuid4().hex
        future = loop.create_future()
        with self._lock:
            self._futures[correlation_id] = (loop, future)
        return correlation_id, future

    def discard(self, correlation_id: str) -> None:
        with self._lock:
            self._futures.pop(correlation_id, None)

    @property
    def waiting(self) -> int:
        return len(self._futures)

    # --- the consumer thread -------------------------------------------------------------
    def _start(self) -> bool:
        """Start the consumer thread unless it runs; True if this call started it."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="reply-waiters", daemon=True)
                self._thread.start()
                return True
            return False

    def drop_connection(self, *, stop: bool = False) -> None:
        """End the consumer's connection from another thread, as a network failure would:
        its socket is shut, the consumer reconnects with a new queue (tests), or, with
        `stop`, ends."""
        self._stopping = self._stopping or stop  # before reading the connection: see _consume
        _shut(self._connection)

    def _run(self) -> None:
        pause = 0.2
        while not self._stopping:
            self._was_up = False
            try:
                self._consume()
            except Exception:
                if self._stopping:
                    return
                log.warning("reply queue lost; reconnecting in %.1f s", pause, exc_info=True)
            if self._was_up:  # it was up: the next outage starts its back-off anew
                pause = 0.2
            self._ready.clear()
            self._queue = None
            time.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _consume(self) -> None:
        """Consume the queue until the connection fails (then `_run` makes a new one).

        py-amqp (through kombu's connection, as the publisher and the worker's replies),
        not pika's BlockingConnection: each reply crossed about twice as much Python in
        pika's layers (docs/performance.md). Heartbeats are this loop's to send: the
        queue is consumed with no acks, so without them the broker would hear nothing
        from an idle consumer and close it."""
        connection = self._connection = Connection(
            self._url, heartbeat=HEARTBEAT_S, connect_timeout=5
        )
        try:
            connection.ensure_connection(max_retries=1)
            if self._stopping:  # stopped while connecting (drop_connection found no socket)
                return
            channel = connection.default_channel
            queue, _, _ = channel.queue_declare(queue="", exclusive=True, auto_delete=True)
            channel.basic_consume(queue, consumer_tag="", callback=self._on_reply, no_ack=True)
            self._queue = queue
            self._ready.set()
            self._was_up = True
            while not self._stopping:
                try:
                    connection.drain_events(timeout=HEARTBEAT_S / 4)
                except TimeoutError:
                    pass
                connection.heartbeat_check(rate=4)
        finally:
            # No more waiters on this queue; then the connection closed without the
            # protocol's goodbye (kombu's collect): a broker that takes bytes but never
            # answers would hold a graceful close, and the queue with it, for ever.
            self._ready.clear()
            self._queue = None
            self._connection = None
            _shut(connection)  # first: a TLS connection's collect would say goodbye on it
            try:
                connection.collect()
            except Exception:  # the connection is gone already
                pass

    def _on_reply(self, message) -> None:
        with self._lock:
            waiter = self._futures.pop(message.properties.get("correlation_id") or "", None)
        if waiter is None:
            return  # its client gave up (timeout) or went away
        loop, future = waiter
        try:
            envelope = json.loads(message.body)
        except ValueError:
            log.error("unreadable reply on the waiters' queue")
            return
        loop.call_soon_threadsafe(_settle, future, envelope)


def _shut(connection: Connection | None) -> None:
    """Shut the socket under a kombu connection (py-amqp's), from any thread: a blocked
    read returns at once. Reads py-amqp's `_transport`, never its `transport` property,
    which connects again when there is none."""
    transport = getattr(getattr(connection, "_connection", None), "_transport", None)
    sock = getattr(transport, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _settle(future: asyncio.Future, envelope: dict) -> None:
    if not future.done():
        future.set_result(envelope)


_waiters: ReplyWaiters | None = None


def waiters() -> ReplyWaiters:
    """This process's waiters. One queue serves both channels: the admin worker's login
    may write to any queue, the user worker's to any but the admin channel's."""
    global _waiters
    if _waiters is None:
        _waiters = ReplyWaiters(settings.BROKER_URL_USER)
    return _waiters
