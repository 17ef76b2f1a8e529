"""`logs.errors.query`: Search the central error log across tenants, newest first."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import StringConstraints, TypeAdapter, ValidationError

from actions.catalog._common import ActionName, ErrorCodeName, ListResult, LogQuery, ResponseStatus
from actions.contract.payloads import Email, FreeText, ObjectId, PageInfo, Result, TenantSlug
from actions.contract.registry import action
from adminchannel.actions.logs._models import _require, _uuid_or_none, _valid
from tenants.roles import DEVELOPERS

ErrorSource = Literal["api", "worker", "connector", "beat"]
LogMessage = Annotated[str, StringConstraints(max_length=2000)]


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
