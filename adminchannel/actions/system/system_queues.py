"""`system.queues`: every queue of both channels, with the dead-letter queues."""

from typing import Literal

from actions.contract.payloads import Empty, Result
from actions.contract.registry import action
from tenants.roles import DEVELOPERS


class QueueState(Result):
    channel: Literal["user", "admin"] | None = None
    kind: Literal["work", "dead_letter"] | None = None
    declared: bool | None = None
    messages: int | None = None  # ready to deliver (parked, for a dead-letter queue)
    consumers: int | None = None
    error: str | None = None  # the broker of this channel could not be reached


class Queues(Result):
    queues: dict[str, QueueState]
    dead_lettered: int  # messages parked in the dead-letter queues of both channels


@action(
    "system.queues",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Every queue of both channels: ready messages, consumers, dead-lettered messages.",
    input=Empty,
    output=Queues,
    state="under_dev",
)
def system_queues(ctx, payload: Empty) -> Queues:
    from actions.edge.health import queues_report

    report = queues_report()
    parked = sum(q.get("messages") or 0 for q in report.values() if q.get("kind") == "dead_letter")
    return Queues(
        queues={name: QueueState.model_validate(q) for name, q in report.items()},
        dead_lettered=parked,
    )
