"""The one place that names Switchboard's exchanges, queues, routing keys and task names on
RabbitMQ (docs/architecture.md, "Channels and routing"). Settings declare the queues from
here; the outbox, the workers, the AMQP ingress, /health and the published AsyncAPI
document all spell the names through these functions."""

from kombu import Exchange, Queue

CHANNELS = ("user", "admin")
MAINTENANCE_QUEUE = "switchboard.maintenance"  # beat's periodic jobs and queued mails


def exchange_name(channel: str) -> str:
    """The topic exchange of a channel's action tasks."""
    return f"switchboard.{channel}"


def action_queue(channel: str) -> str:
    """The queue a channel's worker consumes."""
    return f"switchboard.{channel}.actions"


def execute_task(channel: str) -> str:
    """The Celery task that runs one record of a channel."""
    return f"switchboard.{channel}.execute"


def ingress_name(channel: str) -> str:
    """The AMQP ingress of a channel: its exchange and its queue share this name."""
    return f"switchboard.ingress.{channel}"


def routing_key(*, channel: str, tenant: str, action: str) -> str:
    """Routing keys carry channel, tenant and action: `user.acme.leads.create`."""
    return f"{channel}.{tenant}.{action}"


def maintenance_key(job: str) -> str:
    return f"maintenance.{job}"


EXCHANGES = {c: Exchange(exchange_name(c), type="topic", durable=True) for c in CHANNELS}
TASK_QUEUES = (
    *(Queue(action_queue(c), EXCHANGES[c], routing_key=f"{c}.#", durable=True) for c in CHANNELS),
    Queue(MAINTENANCE_QUEUE, EXCHANGES["user"], routing_key="maintenance.#", durable=True),
)
