"""Logs: the tenant's action log and the central error log, queried (admin channel)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

from actions.catalog._common import (
    ActionName,
    ChannelName,
    ErrorCodeName,
    ListResult,
    LogQuery,
    ResponseStatus,
)
from actions.contract.errors import ActionError, ErrorCode
from actions.contract.payloads import (
    Email,
    FreeText,
    JsonObject,
    ObjectId,
    PageInfo,
    Result,
    TenantSlug,
)
from actions.contract.registry import action
from tenants.roles import DEVELOPERS, OWNERS

ErrorSource = Literal["api", "worker", "connector", "beat"]
LogMessage = Annotated[str, StringConstraints(max_length=2000)]


class LogEntry(Result):
    """One action message of the tenant, as its log line records it: the request's and
    the response's shape (keys and sizes, secrets redacted), never their values."""

    at: datetime
    request_id: UUID | None  # the envelope id; None when a refused message had none
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


class ErrorQuery(LogQuery):
    tenant: TenantSlug | None = None  # None: every tenant, and errors before tenant resolution
    source: ErrorSource | None = None


class ErrorEntry(Result):
    """One entry of the central error log."""

    at: datetime
    trace_id: ObjectId
    source: ErrorSource
    tenant: TenantSlug | None
    request_id: UUID | None
    action: ActionName | None
    actor: Email | None
    status: ResponseStatus | None
    code: ErrorCodeName
    message: LogMessage
    detail: FreeText | None  # exception type and stack, secrets redacted; never sent to clients


class ErrorList(ListResult[ErrorEntry]):
    pass


def _require(ctx, allowed: tuple[str, ...]) -> None:
    # The pipeline already checked the entry's roles; checked again here because these
    # read logs, and a wrong index entry must not open them (fail closed).
    if not ctx.roles & set(allowed):
        raise ActionError(ErrorCode.FORBIDDEN, f"Your roles do not allow {ctx.action}.")


def _valid(model, entry: dict):
    """A log line as an output model; None for a line that does not fit (skipped)."""
    try:
        return model.model_validate(entry)
    except ValidationError:
        return None


def _uuid_or_none(value) -> str | None:
    try:
        return str(UUID(str(value))) if value else None
    except ValueError:
        return None


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
                "request_id": _uuid_or_none(line.get("message_id")),
            },
        )
        for line in lines
    ]
    return LogList(items=[i for i in items if i], page=PageInfo(next_cursor=next_cursor))


@action(
    "logs.errors.query",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Search the central error log across tenants, newest first.",
    input=ErrorQuery,
    output=ErrorList,
    state="under_dev",
)
def logs_errors_query(ctx, payload: ErrorQuery) -> ErrorList:
    from audit.selectors import error_log_query

    _require(ctx, DEVELOPERS)
    if payload.status not in (None, "error"):  # every entry of this log is an error
        return ErrorList(items=[], page=PageInfo())
    lines, next_cursor = error_log_query(
        tenant=payload.tenant,
        source=payload.source,
        since=payload.since,
        until=payload.until,
        action=payload.action,
        actor=payload.actor,
        code=payload.code,
        limit=payload.limit,
        cursor=payload.cursor,
    )
    items = [_valid(ErrorEntry, _error_entry(line)) for line in lines]
    return ErrorList(items=[i for i in items if i], page=PageInfo(next_cursor=next_cursor))


def _error_entry(line: dict) -> dict:
    detail = None
    if line.get("exception_type") or line.get("stack"):
        detail = f"{line.get('exception_type') or ''}\n{line.get('stack') or ''}"[:20_000]
    entry = {
        "at": line.get("at"),
        "trace_id": line.get("trace_id"),
        "source": line.get("source") or "worker",
        "tenant": line.get("tenant"),
        "request_id": _uuid_or_none(line.get("message_id")),
        "action": line.get("action"),
        "actor": line.get("actor"),
        "status": "error",
        "code": line.get("code"),
        "message": (line.get("message") or "")[:2000],
        "detail": detail,
    }
    # Values read from a refused envelope may not fit the published shapes: drop the
    # value rather than the whole entry.
    for key, adapter in _LOOSE_FIELDS.items():
        try:
            adapter.validate_python(entry[key])
        except ValidationError:
            entry[key] = None
    return entry


_LOOSE_FIELDS = {
    "tenant": TypeAdapter(TenantSlug | None),
    "action": TypeAdapter(ActionName | None),
    "actor": TypeAdapter(Email | None),
}
