"""Worker boot steps: bind a worker to one channel, and consume that channel's plain-JSON
AMQP ingress (`switchboard.ingress.<channel>`) through the same pipeline as REST."""

import logging

from celery import bootsteps
from celery.worker.control import inspect_command
from django.db import close_old_connections
from kombu import Consumer, Exchange, Queue

log = logging.getLogger(__name__)

# The channel this process serves (None outside a channel worker: web, beat, tests).
served_channel: str | None = None
served_count = {"user": 0, "admin": 0}


def ingress_exchange(channel: str) -> Exchange:
    return Exchange(f"switchboard.ingress.{channel}", type="topic", durable=True)


def ingress_queue(channel: str) -> Queue:
    # Routing key = action name; the pipeline refuses actions of the other channel.
    return Queue(
        f"switchboard.ingress.{channel}", ingress_exchange(channel), routing_key="#", durable=True
    )


class ChannelStep(bootsteps.StartStopStep):
    """`--channel user|admin`: consume only that channel's queues."""

    def __init__(self, worker, channel=None, **kwargs):
        global served_channel
        super().__init__(worker, **kwargs)
        if channel is None:
            return
        served_channel = channel
        if channel == "admin":
            from django.conf import settings

            worker.app.conf.broker_url = settings.BROKER_URL_ADMIN
        queues = [f"switchboard.{channel}.actions"]
        if channel == "user":
            queues.append("switchboard.maintenance")  # beat's periodic jobs
        worker.app.amqp.queues.select(queues)


class IngressConsumer(bootsteps.ConsumerStep):
    def __init__(self, parent, channel=None, **kwargs):
        super().__init__(parent, **kwargs)
        self.served = channel

    def get_consumers(self, channel):
        if self.served is None:
            return []
        consumer = Consumer(
            channel,
            queues=[ingress_queue(self.served)],
            on_message=self.on_message,
            prefetch_count=8,
        )
        return [consumer]

    def on_message(self, message):
        from actions import envelope
        from actions.pipeline import Ingress, submit, unhandled
        from actions.registry import Channel
        from actions.replies import reply

        props = message.properties or {}
        reply_to, correlation_id = props.get("reply_to"), props.get("correlation_id")
        close_old_connections()  # a connection left broken (e.g. by a database restart)
        try:
            headers = message.headers or {}
            authorization = headers.get("authorization")
            if isinstance(authorization, bytes):
                authorization = authorization.decode("utf-8", "replace")
            outcome = submit(
                Ingress(
                    channel=Channel(self.served),
                    body=message.body,
                    authorization=authorization if isinstance(authorization, str) else None,
                    transport="amqp",
                    source="amqp",
                    reply_to=reply_to,
                    correlation_id=correlation_id,
                    routing_key=(getattr(message, "delivery_info", None) or {}).get("routing_key"),
                )
            )
            if outcome.finished and reply_to:
                reply(reply_to=reply_to, correlation_id=correlation_id, envelope=outcome.envelope)
        except Exception:
            log.exception("AMQP ingress failed on a message; replying internal_error")
            try:  # nothing a message holds may stop this consumer, not even its error reply
                if reply_to:
                    reply(
                        reply_to=reply_to,
                        correlation_id=correlation_id,
                        envelope=unhandled("gateway.amqp", envelope.peek(message.body)),
                    )
            except Exception:
                log.exception("AMQP ingress could not answer a failed message")
        finally:
            message.ack()


@inspect_command()
def switchboard_channel(state):
    """`celery inspect switchboard_channel`: which channel this worker serves, and counts."""
    return {"channel": served_channel, "served": dict(served_count)}
