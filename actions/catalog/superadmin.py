"""Super admin: a developer's time-boxed, audited promotion on one tenant (admin channel)."""

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from actions.contract.payloads import Empty, FreeText, ObjectId, Payload, Result, TenantSlug
from actions.contract.registry import action
from tenants.roles import DEVELOPERS, Role


class Promote(Payload):
    """Promotes the calling developer to super admin on the envelope's tenant."""

    reason: Annotated[FreeText, StringConstraints(min_length=10, max_length=500)]
    expires_in_minutes: int = Field(default=60, ge=1, le=480)


class Grant(Result):
    id: ObjectId
    tenant: TenantSlug
    reason: Annotated[FreeText, StringConstraints(max_length=500)]
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None  # set by demotion; None while the grant is live or just expired


def _grant(grant) -> Grant:
    return Grant(
        id=str(grant.pk),
        tenant=grant.tenant.schema_name,
        reason=grant.reason,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        ended_at=grant.ended_at,
    )


@action(
    "superadmin.promote",
    channel="admin",
    roles=(Role.DEVELOPER.value,),  # promotion is for developers not yet promoted
    summary="Promote yourself to super admin on this tenant, with a reason and an expiry.",
    input=Promote,
    output=Grant,
    state="under_dev",
)
def superadmin_promote(ctx, payload: Promote) -> Grant:
    from tenants.services import superadmin_promote as promote

    grant = promote(
        developer=ctx.actor,
        tenant=ctx.tenant_obj,
        reason=payload.reason,
        minutes=payload.expires_in_minutes,
    )
    return _grant(grant)


@action(
    "superadmin.demote",
    channel="admin",
    roles=DEVELOPERS,
    summary="End your live super-admin grant on this tenant.",
    input=Empty,
    output=Grant,
    state="under_dev",
)
def superadmin_demote(ctx, payload: Empty) -> Grant:
    from tenants.services import superadmin_demote as demote

    grant = demote(developer=ctx.actor, tenant=ctx.tenant_obj)
    return _grant(grant)
