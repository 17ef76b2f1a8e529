"""Logs: the tenant's action log and the central error log, queried (admin channel)."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from actions.catalog._common import (
    ActionName,
    ChannelName,
    ErrorCodeName,
    ListResult,
    ResponseStatus,
    TimeWindow,
)
from actions.payloads import Email, FreeText, ObjectId, Page, Result, TenantSlug
from actions.registry import DEVELOPERS, OWNERS, dummy

ErrorSource = Literal["api", "worker", "connector", "beat"]
LogMessage = Annotated[str, StringConstraints(max_length=2000)]


class LogQuery(Page, TimeWindow):
    action: ActionName | None = None
    actor: Email | None = None
    status: ResponseStatus | None = None
    code: ErrorCodeName | None = None


class LogEntry(Result):
    """One action message of the tenant, as its log line records it (secrets redacted)."""

    at: datetime
    request_id: UUID  # the envelope id
    action: ActionName
    version: int = Field(ge=1)
    channel: ChannelName
    actor: Email | None  # None: anonymous
    status: ResponseStatus
    code: ErrorCodeName | None
    duration_ms: int | None = Field(ge=0)
    trace_id: ObjectId | None


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


dummy(  # TODO
    "logs.tenant.query",
    channel="admin",
    roles=OWNERS,
    summary="Search the tenant's action log (kept seven days), newest first.",
    input=LogQuery,
    output=LogList,
)
dummy(  # TODO
    "logs.errors.query",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Search the central error log across tenants, newest first.",
    input=ErrorQuery,
    output=ErrorList,
)
