"""The AMQP ingress sorts a deep queue into per-tenant lanes (actions/edge/ingress.py): one
tenant's flood waits in its lane while another tenant's message is handled at once, and
nothing is lost or answered twice on the way.

Real RabbitMQ. Each test runs an ingress process (in a thread) on a private ingress queue
of its own, fed through the default exchange, so the session's ingress processes (which
consume the channel's queue) never see these messages. Through the default exchange the
routing key is the queue's name, not the action: the pipeline refuses every message at
step 1 and the ingress answers at once, which is what lets the order of the answers show
the order in which the ingress handled the messages (and that a lane's message kept its
original routing key: without it, that check would not run).
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path

import amqp
import pika
import pytest
from kombu import Connection

from actions.delivery.replies import broker_url
from actions.edge import ingress
from config.queues import INGRESS_LANES, ingress_lane_queue
from tests.conftest import envelope
from tests.ingress_queues import delete_ingress

FLOOD = 300
TRIAGE_ABOVE = 20


def _lane(tenant: str) -> int:
    return zlib.crc32(tenant.encode()) % INGRESS_LANES


def _other_lane_than(tenant: str) -> str:
    return next(t for t in ("beta", "gamma", "delta", "omega") if _lane(t) != _lane(tenant))


@pytest.fixture
def private_queue():
    name = f"switchboard.ingress.user.test{uuid.uuid4().hex[:8]}"
    yield name
    delete_ingress(broker_url("user"), name)


class Client:
    """Publishes into a private ingress queue and reads the answers, in arrival order."""

    def __init__(self, queue: str):
        self.queue = queue
        self.connection = pika.BlockingConnection(pika.URLParameters(broker_url("user")))
        self.channel = self.connection.channel()
        ingress.declare(self.channel, "user", queue)
        self.answers: list[tuple[str, dict]] = []
        self.channel.basic_consume("amq.rabbitmq.reply-to", self._on_answer, auto_ack=True)

    @property
    def reply_to(self) -> str:
        """This client's direct reply-to address as the broker writes it into what the
        client publishes (another connection may publish with it)."""
        probe = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.basic_publish(
            "", probe, b"", pika.BasicProperties(reply_to="amq.rabbitmq.reply-to")
        )
        _method, properties, _body = self.channel.basic_get(probe, auto_ack=True)
        self.channel.queue_delete(probe)
        return properties.reply_to

    def _on_answer(self, _channel, _method, properties, body):
        self.answers.append((properties.correlation_id, json.loads(body)))

    def send(self, tenant: str, correlation_id: str, headers: dict | None = None) -> None:
        self.channel.basic_publish(
            "",
            self.queue,
            json.dumps(envelope("leads.list", {}, tenant=tenant)),
            pika.BasicProperties(
                reply_to="amq.rabbitmq.reply-to", correlation_id=correlation_id, headers=headers
            ),
        )

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answers) < count and time.monotonic() < deadline:
            self.connection.process_data_events(time_limit=0.2)

    def close(self) -> None:
        self.connection.close()


@contextlib.contextmanager
def _ingress(queue: str, *, triage_above: int):
    """An ingress process with two threads on `queue`, in a thread, for the block."""
    process = ingress.IngressProcess("user", threads=2, name=queue, triage_above=triage_above)
    thread = threading.Thread(target=process.serve, daemon=True)
    thread.start()
    try:
        yield process
    finally:
        process.stop()
        thread.join(timeout=30)


def _run(queue: str, *, triage_above: int, senders: list[tuple[str, str]]) -> Client:
    """Queue every message first (the flood is waiting before the ingress starts), then
    let an ingress process with two threads answer them all."""
    client = Client(queue)
    for tenant, correlation_id in senders:
        client.send(tenant, correlation_id)
    try:
        with _ingress(queue, triage_above=triage_above):
            client.wait_for(len(senders))
    finally:
        client.close()
    return client


def _flood_then_one(tenant: str, other: str) -> list[tuple[str, str]]:
    return [(tenant, f"flood-{i}") for i in range(FLOOD)] + [(other, "other")]


def test_a_flood_waits_in_its_lane_while_another_tenants_message_is_answered(private_queue):
    other = _other_lane_than("acme")
    senders = _flood_then_one("acme", other)
    client = _run(private_queue, triage_above=TRIAGE_ABOVE, senders=senders)

    order = [correlation_id for correlation_id, _ in client.answers]
    # Every message answered once: none lost in the move into the lanes, none twice.
    assert sorted(order) == sorted(c for _, c in senders)
    # The other tenant's message, published last, did not wait for the flood.
    assert order.index("other") < FLOOD // 3, order.index("other")
    # Moved into a lane, a message kept the routing key the client sent it with: the
    # pipeline still checked it (it is the private queue's name, not the action).
    for _, answer in client.answers:
        assert answer["error"]["code"] == "invalid_envelope"
        assert "routing key" in answer["error"]["message"]


def test_what_waits_in_the_lanes_is_answered_by_the_next_process(private_queue):
    """A process stopped while messages wait in its lanes: the next one (even one that
    never sorts) consumes the lanes too, and every message is answered once."""
    senders = _flood_then_one("acme", _other_lane_than("acme"))
    client = Client(private_queue)
    for tenant, correlation_id in senders:
        client.send(tenant, correlation_id)
    with _ingress(private_queue, triage_above=5):
        client.wait_for(20)
    client.wait_for(len(senders), timeout=1)  # answers of the messages it had in hand
    assert len(client.answers) < len(senders), "the first process answered everything"
    probe = pika.BlockingConnection(pika.URLParameters(broker_url("user")))
    waiting = sum(
        probe.channel()
        .queue_declare(ingress_lane_queue(private_queue, lane), passive=True)
        .method.message_count
        for lane in range(INGRESS_LANES)
    )
    probe.close()
    assert waiting > 0, "nothing was left in the lanes"

    try:
        with _ingress(private_queue, triage_above=0):  # one that never sorts
            client.wait_for(len(senders))
    finally:
        client.close()
    order = [correlation_id for correlation_id, _ in client.answers]
    assert sorted(order) == sorted(c for _, c in senders)


def test_a_message_whose_headers_cannot_be_written_again_still_goes_to_its_lane(
    private_queue,
):
    """A header value pika reads but py-amqp cannot write again (a float of 1e19 arrives
    as an integer too big for AMQP's table): the message goes to its lane with its
    headers as text (no way around the lanes for its sender), nothing stalls, and every
    message is answered once."""
    senders = _flood_then_one("acme", _other_lane_than("acme"))
    client = Client(private_queue)
    for number, (tenant, correlation_id) in enumerate(senders):
        if number == 50:  # py-amqp writes the float; pika reads it back as an integer
            with Connection(broker_url("user")) as conn:
                conn.default_channel.basic_publish(
                    amqp.Message(
                        json.dumps(envelope("leads.list", {}, tenant=tenant)),
                        reply_to=client.reply_to,
                        correlation_id=correlation_id,
                        application_headers={"x-big": 1e19},
                    ),
                    exchange="",
                    routing_key=private_queue,
                )
        else:
            client.send(tenant, correlation_id)
    try:
        with _ingress(private_queue, triage_above=5):
            client.wait_for(len(senders))
    finally:
        client.close()
    order = [correlation_id for correlation_id, _ in client.answers]
    assert sorted(order) == sorted(c for _, c in senders)


def test_without_lanes_the_same_message_waits_for_the_whole_flood(private_queue):
    """The test above fails without lanes: the queue is first in, first out."""
    senders = _flood_then_one("acme", _other_lane_than("acme"))
    client = _run(private_queue, triage_above=0, senders=senders)
    order = [correlation_id for correlation_id, _ in client.answers]
    assert sorted(order) == sorted(c for _, c in senders)
    assert order.index("other") >= FLOOD - 5


def test_the_lane_of_a_message_is_its_tenants():
    body = json.dumps(envelope("leads.list", {}, tenant="acme")).encode()
    assert ingress.lane_of(body) == _lane("acme")
    assert ingress.lane_of(b"{not json") == _lane("")
    assert ingress.lane_of(b"[1, 2]") == _lane("")
    big = json.dumps(envelope("leads.list", {"x": "y" * ingress.LANE_PEEK_MAX}, tenant="acme"))
    assert ingress.lane_of(big.encode()) == _lane("")  # anonymous: not parsed to find out
    assert ingress.lane_of(big.encode(), signed=True) == _lane("acme")


def test_only_a_token_that_verifies_buys_the_bigger_parse(tokens):
    """A bare `authorization` header is not a signed message: junk in it would have every
    big anonymous body parsed while sorting."""
    from types import SimpleNamespace

    def signed(header) -> bool:
        return ingress._signed(SimpleNamespace(headers={"authorization": header}))

    token = tokens["member@acme.test"]
    assert signed(f"Bearer {token}") and signed(f"Bearer {token}".encode())
    assert not signed("Bearer junk") and not signed("x") and not signed(None)


def test_a_message_moved_into_a_lane_keeps_its_headers_and_properties(private_queue):
    """What the pipeline reads travels with it: the authorization header, reply_to and
    correlation_id, the routing key the client used (in a header); never the client's
    user_id (the broker would refuse our publish of it)."""
    connection = pika.BlockingConnection(pika.URLParameters(broker_url("user")))
    try:
        channel = connection.channel()
        ingress.declare(channel, "user", private_queue)
        body = json.dumps(envelope("leads.list", {}, tenant="acme")).encode()
        sent = pika.BasicProperties(
            content_type="application/json",
            headers={"authorization": "Bearer abc", "x-other": 7},
            reply_to="amq.rabbitmq.reply-to.xyz",
            correlation_id="c-1",
            message_id="m-1",
            timestamp=1_700_000_000,
            user_id="switchboard_client",
        )
        method = type("Method", (), {"routing_key": "leads.list"})()
        lanes = ingress._Lanes(broker_url("user"), private_queue)
        try:
            assert lanes.publish([(method, sent, body)]) == []  # nothing left over
        finally:
            lanes.close()
        lane = ingress_lane_queue(private_queue, _lane("acme"))
        got_method, got, got_body = channel.basic_get(lane, auto_ack=True)
        assert got_method is not None, "nothing in the lane"
        assert got_body == body
        assert got.headers["authorization"] == "Bearer abc" and got.headers["x-other"] == 7
        assert got.headers[ingress.ROUTING_KEY_HEADER] == "leads.list"
        assert (got.reply_to, got.correlation_id, got.message_id) == (
            "amq.rabbitmq.reply-to.xyz",
            "c-1",
            "m-1",
        )
        assert got.timestamp == 1_700_000_000 and got.content_type == "application/json"
        assert got.delivery_mode == 2 and got.user_id is None

        # A header AMQP's table cannot hold (pika reads one from a big float): the message
        # still goes to its lane, its headers' values as text.
        odd = pika.BasicProperties(headers={"authorization": "Bearer abc", "x-big": 10**19})
        lanes = ingress._Lanes(broker_url("user"), private_queue)
        try:
            assert lanes.publish([(method, odd, body)]) == []
        finally:
            lanes.close()
        got_method, got, _ = channel.basic_get(lane, auto_ack=True)
        assert got_method is not None, "nothing in the lane"
        assert got.headers["authorization"] == "Bearer abc"
        assert got.headers["x-big"] == str(10**19)
        assert got.headers[ingress.ROUTING_KEY_HEADER] == "leads.list"
    finally:
        connection.close()


_INGRESS = (
    "import sys, django; django.setup(); from actions.edge.ingress import IngressProcess; "
    "IngressProcess('user', threads=2, name=sys.argv[1], triage_above=20).run()"
)


def _spawn_ingress(queue: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _INGRESS, queue],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_an_ingress_killed_while_it_sorts_loses_nothing(private_queue):
    """SIGKILL an ingress process as it starts answering a queue of 5,000 (sorting them
    into lanes meanwhile): a second process answers every message. What the first had
    moved into a lane but not acknowledged yet comes back from the queue too, and is
    answered twice (the second time as a repeat); nothing is missing."""
    total = 5000
    client = Client(private_queue)
    expected = {f"m-{i}" for i in range(total)}
    for correlation_id in sorted(expected):
        client.send("acme", correlation_id)
    first = _spawn_ingress(private_queue)
    try:
        client.wait_for(1, timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    answered_by_first = len(client.answers)
    second = _spawn_ingress(private_queue)
    try:
        deadline = time.monotonic() + 180
        while {c for c, _ in client.answers} != expected and time.monotonic() < deadline:
            client.connection.process_data_events(time_limit=0.2)
    finally:
        second.terminate()
        second.wait(timeout=30)
        client.close()
    seen = [c for c, _ in client.answers]
    assert set(seen) == expected, f"{len(expected - set(seen))} messages never answered"
    twice = len(seen) - len(set(seen))
    # At most what the first process had in hand: a sorting batch and its prefetches.
    assert twice <= ingress.SORT_BATCH + 2 * 2 + INGRESS_LANES * ingress.LANE_PREFETCH, twice
    print(f"answered by the killed process {answered_by_first}, twice {twice}")


def test_a_deleted_lane_is_declared_and_consumed_again(private_queue):
    """The broker cancels the consumer of a deleted queue: the process connects again,
    declares its queues and consumes every lane (else that lane's messages would wait
    there unseen)."""
    connection = pika.BlockingConnection(pika.URLParameters(broker_url("user")))
    lane = ingress_lane_queue(private_queue, 3)

    def consumers() -> int:
        try:
            return connection.channel().queue_declare(lane, passive=True).method.consumer_count
        except pika.exceptions.ChannelClosedByBroker:  # not there (yet)
            return -1

    try:
        with _ingress(private_queue, triage_above=5):
            deadline = time.monotonic() + 20
            while consumers() != 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert consumers() == 1
            connection.channel().queue_delete(lane)
            deadline = time.monotonic() + 30
            while consumers() != 1 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert consumers() == 1, "the deleted lane was not consumed again"
    finally:
        connection.close()
