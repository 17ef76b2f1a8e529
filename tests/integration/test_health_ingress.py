"""/health's ingress part (actions.edge.health.ingress_consumers) counts an ingress process
only when it consumes the queue and every one of its lanes, and counts the messages
waiting in the lanes as backlog. Real RabbitMQ, on a private ingress queue of the test's
own (the session's ingress processes consume the channel's)."""

import uuid

import pika
import pytest

from actions.delivery.replies import broker_url
from actions.edge import health, ingress
from config.queues import INGRESS_LANES, ingress_lane_queue
from tests.ingress_queues import delete_ingress


@pytest.fixture
def private_queue():
    name = f"switchboard.ingress.user.test{uuid.uuid4().hex[:8]}"
    yield name
    delete_ingress(broker_url("user"), name)


@pytest.fixture
def broker():
    connection = pika.BlockingConnection(pika.URLParameters(broker_url("user")))
    yield connection.channel()
    connection.close()


def _publish(channel, queue: str, count: int) -> None:
    for _ in range(count):
        channel.basic_publish(exchange="", routing_key=queue, body=b"{}")


def test_backlog_counts_the_lanes_and_consumers_need_every_lane(private_queue, broker):
    ingress.declare(broker, "user", name=private_queue)
    assert health.ingress_consumers("user", private_queue) == {"consumers": 0, "backlog": 0}
    _publish(broker, private_queue, 2)
    _publish(broker, ingress_lane_queue(private_queue, 3), 3)
    # An ingress process that consumes the queue and all lanes but one is not counted.
    consumer = pika.BlockingConnection(pika.URLParameters(broker_url("user"))).channel()
    try:
        consumer.basic_qos(prefetch_count=1)  # holds one message of each queue it consumes
        consumer.basic_consume(private_queue, lambda *a: None)
        for lane in range(INGRESS_LANES - 1):
            consumer.basic_consume(ingress_lane_queue(private_queue, lane), lambda *a: None)
        consumer.connection.process_data_events(time_limit=0.2)
        found = health.ingress_consumers("user", private_queue)
        assert found["consumers"] == 0, found
        # Ready messages only: the consumer holds one of the queue's and one of lane 3's.
        assert found["backlog"] == 1 + 2, found
        consumer.basic_consume(
            ingress_lane_queue(private_queue, INGRESS_LANES - 1), lambda *a: None
        )
        consumer.connection.process_data_events(time_limit=0.2)
        assert health.ingress_consumers("user", private_queue)["consumers"] == 1
    finally:
        consumer.connection.close()


def test_without_lanes_the_queue_alone_counts(private_queue, broker):
    """An ingress from before the lanes declared only its queue."""
    broker.queue_declare(private_queue, durable=True)
    _publish(broker, private_queue, 4)
    consumer = pika.BlockingConnection(pika.URLParameters(broker_url("user"))).channel()
    try:
        consumer.basic_qos(prefetch_count=1)
        consumer.basic_consume(private_queue, lambda *a: None)
        consumer.connection.process_data_events(time_limit=0.2)
        assert health.ingress_consumers("user", private_queue) == {"consumers": 1, "backlog": 3}
    finally:
        consumer.connection.close()


def test_a_queue_never_declared_has_no_consumers_and_no_backlog(private_queue):
    """A new broker: no ingress process has run yet, so its queue does not exist. /health
    says "no ingress" rather than failing, and so does the bench's check that none runs."""
    assert health.ingress_consumers("user", private_queue) == {"consumers": 0, "backlog": 0}
