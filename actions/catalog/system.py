"""system.*: health and the index, as actions."""

from typing import Any, Literal

from actions.contract.payloads import Empty, Result
from actions.contract.registry import action
from tenants.roles import SIGNED_IN


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
