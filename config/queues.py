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


# An ingress queue deeper than its processes keep up with is sorted into lanes, by tenant
# (actions.edge.ingress): one tenant's flood fills its lane, not everyone's queue.
INGRESS_LANES = 8


def ingress_lanes_exchange(ingress: str) -> str:
    """The direct exchange of an ingress's lanes (routing key: the lane's number)."""
    return f"{ingress}.lanes"


def ingress_lane_queue(ingress: str, lane: int) -> str:
    return f"{ingress}.lane.{lane}"


def routing_key(*, channel: str, tenant: str, action: str) -> str:
    """Routing keys carry channel, tenant and action: `user.acme.leads.create`."""
    return f"{channel}.{tenant}.{action}"


def maintenance_key(job: str) -> str:
    return f"maintenance.{job}"


def dead_letter_exchange(channel: str) -> str:
    """Where a channel's messages that gave up go (fanout to the dead-letter queue)."""
    return f"switchboard.{channel}.dlx"


def dead_letter_queue(channel: str) -> str:
    """A channel's parked messages, for an operator (docs/reliability.md)."""
    return f"switchboard.{channel}.dead"


# SWITCHBOARD_QUEUE_TYPE (docs/operations.md): `classic` (the default) or `quorum`. Quorum
# queues are replicated, dead-letter to the channel's DLX and have the broker bound
# redeliveries (`x-delivery-limit`); on classic queues the record's attempt counter is the
# bound (actions.worker.executor.MAX_ATTEMPTS, 3 attempts, reached first on both types).
# The broker counts every delivery, a message prefetched by a worker that was killed before
# it started the task included; under repeated worker crashes the messages at the head of
# the queue go round several times. The limit is only a backstop for what the executor's
# own count (attempts actually started) cannot see, so it stays well above it.
QUEUE_TYPES = ("classic", "quorum")
DELIVERY_LIMIT = 20


def queue_arguments(channel: str, queue_type: str) -> dict | None:
    if queue_type not in QUEUE_TYPES:
        raise ValueError(f"SWITCHBOARD_QUEUE_TYPE must be one of {QUEUE_TYPES}, not {queue_type!r}")
    if queue_type == "classic":
        return None  # as declared before dead-lettering existed: no redeclare conflict
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": dead_letter_exchange(channel),
        "x-delivery-limit": DELIVERY_LIMIT,
    }


EXCHANGES = {c: Exchange(exchange_name(c), type="topic", durable=True) for c in CHANNELS}
DEAD_LETTER_EXCHANGES = {
    c: Exchange(dead_letter_exchange(c), type="fanout", durable=True) for c in CHANNELS
}
DEAD_LETTER_QUEUES = {
    c: Queue(dead_letter_queue(c), DEAD_LETTER_EXCHANGES[c], durable=True) for c in CHANNELS
}


def task_queues(queue_type: str = "classic") -> tuple[Queue, ...]:
    """Every task queue, of `queue_type`: each channel's action queue and the maintenance
    queue (beat's jobs, on the user channel)."""
    return (
        *(
            Queue(
                action_queue(c),
                EXCHANGES[c],
                routing_key=f"{c}.#",
                durable=True,
                queue_arguments=queue_arguments(c, queue_type),
            )
            for c in CHANNELS
        ),
        Queue(
            MAINTENANCE_QUEUE,
            EXCHANGES["user"],
            routing_key="maintenance.#",
            durable=True,
            queue_arguments=queue_arguments("user", queue_type),
        ),
    )
