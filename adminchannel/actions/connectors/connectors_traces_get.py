"""`connectors.traces.get`: Read one connector call's trace: each step's data (secrets
redacted), the config, every attempt and the outcome."""

from typing import Literal

from pydantic import Field

from actions.catalog._common import ById
from actions.contract.payloads import JsonObject, Result
from actions.contract.registry import action
from adminchannel.actions.connectors._models import ConnectorTraceSummary
from adminchannel.actions.logs._models import _require
from tenants.roles import OWNERS


class TraceStep(Result):
    step: Literal["request", "outbound", "inbound", "response"]
    data: JsonObject
    ms: float = Field(ge=0)


class TraceDetail(ConnectorTraceSummary):
    steps: list[TraceStep] = Field(max_length=4)
    config: JsonObject
    attempt_log: list[JsonObject] = Field(max_length=20)


@action(
    "connectors.traces.get",
    channel="admin",
    roles=OWNERS,
    summary="Read one connector call's trace: its steps (secrets redacted) and outcome.",
    input=ById,
    output=TraceDetail,
)
def connectors_traces_get(ctx, payload: ById) -> TraceDetail:
    _require(ctx, OWNERS)
    return TraceDetail.model_validate(ctx.connectors.trace(payload.id))
