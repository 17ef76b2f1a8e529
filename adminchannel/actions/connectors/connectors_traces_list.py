"""`connectors.traces.list`: List the tenant's connector calls, newest first."""

from typing import Literal

from actions.catalog._common import ActionName, ListResult
from actions.contract.payloads import ObjectId, Page, PageInfo, Slug
from actions.contract.registry import action
from adminchannel.actions.connectors._models import ConnectorTraceSummary
from adminchannel.actions.logs._models import _require
from tenants.roles import OWNERS


class TraceQuery(Page):
    connector: Slug | None = None
    action: ActionName | None = None
    outcome: Literal["ok", "error"] | None = None
    trace_id: ObjectId | None = None  # the action's trace id, as its client was given it


class TraceList(ListResult[ConnectorTraceSummary]):
    pass


@action(
    "connectors.traces.list",
    channel="admin",
    roles=OWNERS,
    summary="List the tenant's connector calls, newest first.",
    input=TraceQuery,
    output=TraceList,
)
def connectors_traces_list(ctx, payload: TraceQuery) -> TraceList:
    _require(ctx, OWNERS)
    # The traces are in the schema of the tenant the message was sent to: owners see theirs.
    items, next_cursor = ctx.connectors.traces(
        limit=payload.limit,
        cursor=payload.cursor,
        connector=payload.connector,
        action=payload.action,
        outcome=payload.outcome,
        trace_id=payload.trace_id,
    )
    return TraceList(
        items=[ConnectorTraceSummary.model_validate(i) for i in items],
        page=PageInfo(next_cursor=next_cursor),
    )
