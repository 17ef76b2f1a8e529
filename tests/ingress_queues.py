"""Private AMQP ingress queues for tests (actions/edge/ingress.py): removed with their
lanes and exchanges when a test is done with them."""

import pika

from config.queues import INGRESS_LANES, ingress_lane_queue, ingress_lanes_exchange


def delete_ingress(url: str, name: str) -> None:
    """Delete the ingress queue `name`, its lanes and both exchanges (broker login `url`)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for lane in range(INGRESS_LANES):
            channel.queue_delete(ingress_lane_queue(name, lane))
        channel.queue_delete(name)
        channel.exchange_delete(ingress_lanes_exchange(name))
        channel.exchange_delete(name)
    finally:
        connection.close()
