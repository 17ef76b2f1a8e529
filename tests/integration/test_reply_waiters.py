"""The web's reply consumer (actions.edge.waiters) on the real broker: a reply reaches its
waiter, an idle consumer keeps its connection (it sends the heartbeats itself), and a
lost connection is replaced by a new queue."""

import asyncio
import time

import pytest
from django.conf import settings

from actions.delivery.replies import reply
from actions.edge import waiters


def _await_reply(replies: waiters.ReplyWaiters, timeout: float = 5.0) -> dict:
    async def run():
        correlation_id, future = replies.register()
        reply(
            reply_to=replies.ready_queue,
            correlation_id=correlation_id,
            channel="user",
            envelope={"id": correlation_id, "status": "ok", "meta": {}},
        )
        return correlation_id, await asyncio.wait_for(future, timeout)

    correlation_id, envelope = asyncio.run(run())
    assert envelope["id"] == correlation_id
    return envelope


@pytest.fixture
def replies():
    consumer = waiters.ReplyWaiters(settings.BROKER_URL_USER)
    yield consumer
    consumer.drop_connection(stop=True)
    if consumer._thread is not None:
        consumer._thread.join(15)
        assert not consumer._thread.is_alive(), "the consumer outlived its stop"


def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_idle_consumer_keeps_its_queue_past_its_heartbeats(monkeypatch, replies):
    """With a 2 s heartbeat the broker closes a connection it hears nothing from within
    about 4-6 s: the consumer, which acks nothing, must send heartbeats of its own."""
    monkeypatch.setattr(waiters, "HEARTBEAT_S", 2)
    queue = replies.queue(timeout=10)
    assert queue and queue.startswith("amq.gen-")
    _await_reply(replies)
    time.sleep(9)
    assert replies.ready_queue == queue  # never reconnected
    _await_reply(replies)


def test_a_lost_connection_comes_back_with_a_new_queue(replies):
    """The socket fails under the consumer: no waiter is left on the dead queue (it is no
    longer advertised), and a new queue serves within moments."""
    first = replies.queue(timeout=10)
    assert first
    replies.drop_connection()
    _until(lambda: replies.ready_queue != first)  # the dead queue is no longer advertised
    _until(lambda: replies.ready_queue not in (None, first))
    _await_reply(replies)


def test_a_reply_for_nobody_is_dropped_and_the_next_one_arrives(replies):
    assert replies.queue(timeout=10)
    reply(
        reply_to=replies.ready_queue,
        correlation_id="nobody-waits-for-this",
        channel="user",
        envelope={"id": "x", "status": "ok", "meta": {}},
    )
    _await_reply(replies)


def test_a_stop_while_connecting_is_not_lost(monkeypatch):
    """A stop asked while the consumer connects (drop_connection finds no socket to shut
    yet) still ends the consumer once it has connected, before it declares a queue."""
    consumer = waiters.ReplyWaiters(settings.BROKER_URL_USER)
    real = waiters.Connection.ensure_connection

    def connect_then_stop(self, *args, **kwargs):
        assert consumer._connection is self and self._connection is None  # nothing to shut
        consumer.drop_connection(stop=True)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(waiters.Connection, "ensure_connection", connect_then_stop)
    consumer._start()
    consumer._thread.join(15)
    assert not consumer._thread.is_alive()
    assert consumer.ready_queue is None and not consumer._was_up
