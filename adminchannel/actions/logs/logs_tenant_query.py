"""`logs.tenant.query`: Search the tenant's action log (kept seven days), newest first."""

from datetime import datetime
from uuid import UUID

from pydantic import Field

from actions.catalog._common import (
    ActionName,
    ChannelName,
    ErrorCodeName,
    ListResult,
    LogQuery,
    ResponseStatus,
)
from actions.contract.payloads import Email, JsonObject, ObjectId, PageInfo, Result
from actions.contract.registry import action
from adminchannel.actions.logs._models import _require, _uuid_or_none, _valid
from tenants.roles import OWNERS


class LogEntry(Result):
    """One action message of the tenant, as its log line records it: the request's and
    the response's shape (keys and sizes, secrets redacted), never their values."""

    at: datetime
    request_id: UUID | None  # the envelope id; None for an anonymous action, or a refused
    # message that had none
    action: ActionName | None  # None: refused before the action could be read
    version: int | None = Field(ge=1)
    channel: ChannelName
    actor: Email | None  # None: anonymous
    status: ResponseStatus
    code: ErrorCodeName | None
    duration_ms: int | None = Field(ge=0)
    trace_id: ObjectId | None
    request: JsonObject | None = None
    response: JsonObject | None = None


class LogList(ListResult[LogEntry]):
    pass


@action(
    "logs.tenant.query",
    channel="admin",
    roles=OWNERS,
    summary="Search the tenant's action log (kept seven days), newest first.",
    input=LogQuery,
    output=LogList,
    state="under_dev",
)
def logs_tenant_query(ctx, payload: LogQuery) -> LogList:
    from audit.selectors import tenant_log_query

    _require(ctx, OWNERS)
    lines, next_cursor = tenant_log_query(
        tenant=ctx.tenant,  # only the tenant the message was sent to: owners see their own
        since=payload.since,
        until=payload.until,
        action=payload.action,
        actor=payload.actor,
        status=payload.status,
        code=payload.code,
        limit=payload.limit,
        cursor=payload.cursor,
    )
    fields = set(LogEntry.model_fields) - {"request_id"}
    items = [
        _valid(
            LogEntry,
            {
                **{k: v for k, v in line.items() if k in fields},
                # An anonymous action's id is the only key to its record (a poll answers
                # it to whoever holds the id): not shown to the tenant's owners.
                "request_id": _uuid_or_none(line.get("message_id")) if line.get("actor") else None,
            },
        )
        for line in lines
    ]
    return LogList(items=[i for i in items if i], page=PageInfo(next_cursor=next_cursor))
