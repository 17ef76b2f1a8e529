"""`audit.admin.query`: Search the tenant's admin audit log, newest first."""

import re
from datetime import datetime
from typing import Literal, get_args
from uuid import UUID

from pydantic import Field

from actions.catalog._common import ActionName, ErrorCodeName, ListResult, LogQuery, ResponseStatus
from actions.contract.errors import ActionError, ErrorCode
from actions.contract.payloads import (
    Email,
    FreeText,
    JsonObject,
    ObjectId,
    PageInfo,
    Result,
    ShortText,
)
from actions.contract.registry import action
from tenants.roles import OWNERS

# The roles an admin audit entry may name: anyone but the anonymous and the platform-only
# (tenants.roles.Role less ANONYMOUS and AUTHENTICATED; a unit test keeps them equal).
ActorRole = Literal["member", "owner", "primary_owner", "super_admin", "developer"]


_ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class AuditQuery(LogQuery):
    super_admin_only: bool = False  # only what was done as super admin (`as_super_admin`)


class AuditEntry(Result):
    """One admin-channel command or super-admin action (payload: its shape, secrets
    redacted). `status` is `error` when the entry carries an error code."""

    id: ObjectId  # the entry's position in the hash chain
    at: datetime
    request_id: UUID | None
    actor: Email | None  # None: the system (a command, a scheduled job)
    actor_role: ActorRole | None
    as_super_admin: bool  # done by virtue of a super-admin grant, not a membership
    grant_id: ObjectId | None  # the super-admin grant the actor acted under
    action: ActionName | None  # None: a refused message whose action could not be read
    version: int | None = Field(ge=1)
    status: ResponseStatus
    outcome: ShortText  # as recorded: ok, error, refused, granted, ...
    code: ErrorCodeName | None
    payload: JsonObject
    reason: FreeText | None  # as given, for promotions; the grant's, for super-admin actions


class AuditList(ListResult[AuditEntry]):
    pass


@action(
    "audit.admin.query",
    channel="admin",
    roles=OWNERS,
    summary="Search the tenant's admin audit log, newest first.",
    input=AuditQuery,
    output=AuditList,
    state="under_dev",
)
def audit_admin_query(ctx, payload: AuditQuery) -> AuditList:
    from audit.selectors import admin_audit_query

    # The pipeline checked the roles on this tenant; again here, failing closed, because
    # this reads the audit log.
    if not ctx.roles & set(OWNERS):
        raise ActionError(ErrorCode.FORBIDDEN, "Your roles do not allow audit.admin.query.")
    entries, next_cursor = admin_audit_query(
        tenant=ctx.tenant,  # only the tenant the message was sent to
        since=payload.since,
        until=payload.until,
        action=payload.action,
        actor=payload.actor,
        status=payload.status,
        code=payload.code,
        super_admin_only=payload.super_admin_only,
        limit=payload.limit,
        cursor=payload.cursor,
    )
    return AuditList(items=[_entry(e) for e in entries], page=PageInfo(next_cursor=next_cursor))


def _entry(e) -> AuditEntry:
    return AuditEntry(
        id=str(e.seq),
        at=e.at,
        request_id=_uuid_or_none(e.message_id),
        actor=e.actor or None,
        actor_role=e.actor_role if e.actor_role in get_args(ActorRole) else None,
        as_super_admin=bool(e.as_super_admin),
        grant_id=e.grant_id or None,
        action=e.action if _ACTION_NAME.match(e.action) else None,
        version=e.version,
        status="error" if e.code else "ok",
        outcome=e.outcome,
        code=e.code or None,
        payload=e.payload_summary if isinstance(e.payload_summary, dict) else {},
        reason=e.reason or None,
    )


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None
