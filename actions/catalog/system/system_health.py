"""`system.health`: Health of database, broker, workers and AMQP ingress processes."""

from typing import Literal

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
    drift: list[str] | None = None  # `release`: released actions whose code changed


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
