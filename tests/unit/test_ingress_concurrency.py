"""The AMQP ingress hands each message to a pool of threads: one slow or hostile message
holds one thread, never the channel (issue 8). Unit test of the mechanism: the consumer
callback returns at once, a second message is handled while the first still blocks, and
each message is acknowledged on the connection's thread once handled."""

import threading
from types import SimpleNamespace

from actions.edge import ingress


class FakeConnection:
    def __init__(self):
        self.callbacks = []

    def add_callback_threadsafe(self, callback):
        self.callbacks.append(callback)


class FakeChannel:
    is_open = True

    def __init__(self):
        self.acked = []

    def basic_ack(self, tag):
        self.acked.append(tag)


def test_a_slow_message_does_not_stall_the_next(monkeypatch):
    release_first = threading.Event()
    second_done = threading.Event()

    def handle(channel, body, properties, routing_key):
        if body == b"slow":
            assert release_first.wait(10), "the slow message was never released"
        else:
            second_done.set()

    monkeypatch.setattr(ingress, "handle", handle)
    process = ingress.IngressProcess("user", threads=2)
    connection, channel = FakeConnection(), FakeChannel()
    on_message = process._on_message(connection, channel)
    props = SimpleNamespace(reply_to=None, correlation_id=None, headers={})

    on_message(channel, SimpleNamespace(delivery_tag=1, routing_key="x"), props, b"slow")
    on_message(channel, SimpleNamespace(delivery_tag=2, routing_key="x"), props, b"fast")

    assert second_done.wait(5), "the second message waited for the first"
    release_first.set()
    process._pool.shutdown(wait=True)
    for callback in connection.callbacks:  # what the connection's thread would run
        callback()
    assert sorted(channel.acked) == [1, 2]
