"""Tenants: creation, configuration, owners and members (admin channel).

Models shared by several actions of this domain."""

from datetime import datetime

from pydantic import Field

from actions.contract.payloads import Email, JsonObject, Payload, Result, ShortText, TenantSlug
from actions.contract.registry import registry
from tenants.roles import acting_as_super_admin


class Tenant(Result):
    slug: TenantSlug
    name: ShortText
    primary_owner_email: Email | None
    member_count: int = Field(ge=0)
    created_at: datetime


class TenantConfig(Result):
    overrides: JsonObject  # what the tenant set
    effective: JsonObject  # the overrides merged over the platform defaults
    version: int = Field(ge=0)  # bumped on every change


class MemberEmail(Payload):
    """Names a member of the tenant by the email of their account."""

    email: Email


def _by(ctx) -> dict:
    """Who acts, and whether by virtue of a super-admin grant rather than a membership
    (decided as for the action's audit entry: tenants.roles.acting_as_super_admin)."""
    spec = registry.get(ctx.action, ctx.version)
    as_super_admin = acting_as_super_admin(roles=ctx.roles, action_roles=spec.roles)
    return {"by": ctx.actor, "as_super_admin": as_super_admin}
