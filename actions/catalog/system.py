"""system.*: health and the index, as actions."""

from typing import Any, Literal

from actions.contract.payloads import Empty, Result
from actions.contract.registry import action
from tenants.roles import DEVELOPERS, SIGNED_IN


class PartState(Result):
    ok: bool
    ms: float | None = None
    error: str | None = None
    workers: list[str] | None = None
    consumers: int | None = None  # AMQP ingress processes on the channel's queue
    backlog: int | None = None  # messages waiting in that queue


class Health(Result):
    status: Literal["ok", "degraded"]
    failing: list[str]
    environment: str
    parts: dict[str, PartState]


@action(
    "system.health",
    channel="user",
    summary="Health of database, broker, workers and AMQP ingress processes.",
    input=Empty,
    output=Health,
    roles=SIGNED_IN,
    scope="account",
    state="released",
)
def system_health(ctx, payload: Empty) -> Health:
    from actions.edge.health import report

    return Health.model_validate(report())


class IndexOut(Result):
    api: str
    environment: str
    error_codes: list[str]
    actions: list[dict[str, Any]]


@action(
    "system.index",
    channel="user",
    summary="The index: every action and its schemas.",
    input=Empty,
    output=IndexOut,
    roles=SIGNED_IN,
    scope="account",
    state="released",
)
def system_index(ctx, payload: Empty) -> IndexOut:
    from actions.contract.index import index_document

    return IndexOut.model_validate(index_document())


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
