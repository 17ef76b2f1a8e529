"""Worker boot steps: bind a worker to one channel (`--channel user|admin`), and answer
`celery inspect switchboard_channel` so that /health and the tests can see it.

The AMQP ingress is not here: it is its own process kind (actions.edge.ingress).
"""

from celery import bootsteps
from celery.worker.control import inspect_command

from actions.connections import tenant_connections
from config.queues import MAINTENANCE_QUEUE, action_queue

# The channel this process serves (None outside a channel worker: web, beat, tests).
served_channel: str | None = None
served_count = {"user": 0, "admin": 0}


class ChannelStep(bootsteps.StartStopStep):
    """`--channel user|admin`: consume only that channel's queues."""

    def __init__(self, worker, channel=None, **kwargs):
        global served_channel
        super().__init__(worker, **kwargs)
        if channel is None:
            return
        served_channel = channel
        if getattr(worker.pool_cls, "__module__", worker.pool_cls) == "celery.concurrency.thread":
            # Threads share the process: a tenant's actions keep to one connection of it
            # (a prefork child has one thread and its own connection).
            size = getattr(worker, "max_concurrency", None) or worker.concurrency or 0
            tenant_connections.configure(size)  # --autoscale: its most threads
        if channel == "admin":
            from django.conf import settings

            worker.app.conf.broker_url = settings.BROKER_URL_ADMIN
        queues = [action_queue(channel)]
        if channel == "user":
            queues.append(MAINTENANCE_QUEUE)  # beat's periodic jobs
        worker.app.amqp.queues.select(queues)


@inspect_command()
def switchboard_channel(state):
    """`celery inspect switchboard_channel`: which channel this worker serves, and counts."""
    return {"channel": served_channel, "served": dict(served_count)}
