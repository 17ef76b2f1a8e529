"""`system.metrics`: Per action over the last hour: calls and errors per minute, p50/p95
latency (adminchannel/monitoring.py, `action_metrics`; also served at `/metrics`)."""

from datetime import datetime

from pydantic import Field

from actions.catalog._common import ActionName, ChannelName
from actions.contract.payloads import Payload, Result
from actions.contract.registry import action
from tenants.roles import DEVELOPERS


class MetricsQuery(Payload):
    minutes: int = Field(default=60, ge=5, le=180)


class ActionMetrics(Result):
    action: ActionName
    channel: ChannelName
    calls: int = Field(ge=0)
    errors: int = Field(ge=0)
    in_flight: int = Field(ge=0)  # accepted or running now
    calls_per_min: float = Field(ge=0)
    errors_per_min: float = Field(ge=0)
    p50_ms: float | None  # acceptance to answer
    p95_ms: float | None
    exec_p95_ms: float | None  # the handler's own time on the worker


class MinutePoint(Result):
    minute: datetime
    action: ActionName
    calls: int = Field(ge=0)
    errors: int = Field(ge=0)
    p95_ms: float | None


class Metrics(Result):
    since: datetime
    until: datetime
    minutes: int
    actions: list[ActionMetrics] = Field(max_length=1000)
    series: list[MinutePoint] = Field(max_length=200_000)
    query_ms: float


@action(
    "system.metrics",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Per action over the last hour: calls and errors per minute, p50/p95 latency.",
    input=MetricsQuery,
    output=Metrics,
    state="under_dev",
)
def system_metrics(ctx, payload: MetricsQuery) -> Metrics:
    from adminchannel.monitoring import action_metrics

    return Metrics.model_validate(action_metrics(minutes=payload.minutes))
