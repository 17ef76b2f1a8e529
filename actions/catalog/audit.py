"""Audit: the tenant's append-only admin audit log, queried (admin channel)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from actions.catalog._common import (
    ActionName,
    ErrorCodeName,
    ListResult,
    ResponseStatus,
    TimeWindow,
)
from actions.payloads import Email, FreeText, JsonObject, ObjectId, Page, Result
from actions.registry import OWNERS, dummy

ActorRole = Literal["member", "owner", "primary_owner", "super_admin", "developer"]


class AuditQuery(Page, TimeWindow):
    action: ActionName | None = None
    actor: Email | None = None
    status: ResponseStatus | None = None
    code: ErrorCodeName | None = None
    super_admin_only: bool = False  # only what super admins did


class AuditEntry(Result):
    """One admin-channel command or super-admin action (payload secrets redacted)."""

    id: ObjectId
    at: datetime
    request_id: UUID | None
    actor: Email
    actor_role: ActorRole
    grant_id: ObjectId | None  # the super-admin grant the actor acted under
    action: ActionName
    version: int = Field(ge=1)
    status: ResponseStatus
    code: ErrorCodeName | None
    payload: JsonObject
    reason: FreeText | None  # as given, for promotions


class AuditList(ListResult[AuditEntry]):
    pass


dummy(  # TODO
    "audit.admin.query",
    channel="admin",
    roles=OWNERS,
    summary="Search the tenant's admin audit log, newest first.",
    input=AuditQuery,
    output=AuditList,
)
