"""Tenants: creation, configuration, owners and members (admin channel)."""

import copy
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo

from actions.catalog._common import ListResult, TenantRole
from actions.catalog.auth import NewPassword
from actions.contract.payloads import (
    FROM_MESSAGE,
    Deleted,
    Email,
    Empty,
    JsonObject,
    ObjectId,
    Page,
    Payload,
    Result,
    Secret,
    ShortText,
    TenantSlug,
)
from actions.contract.registry import action, registry
from tenants.roles import DEVELOPERS, OWNERS, PRIMARY_OWNER, PUBLIC, acting_as_super_admin


class TenantCreate(Payload):
    slug: TenantSlug
    name: ShortText
    primary_owner_email: Email
    config: JsonObject | None = None  # overrides, validated against the tenant config schema


class TenantQuery(Page):
    search: ShortText | None = None  # matches slug or name


class Tenant(Result):
    slug: TenantSlug
    name: ShortText
    primary_owner_email: Email | None
    member_count: int = Field(ge=0)
    created_at: datetime


class TenantList(ListResult[Tenant]):
    pass


class TenantConfig(Result):
    overrides: JsonObject  # what the tenant set
    effective: JsonObject  # the overrides merged over the platform defaults
    version: int = Field(ge=0)  # bumped on every change


def _config_schema(schema: dict[str, Any]) -> None:
    """The tenant config JSON Schema (tenants/config.py SCHEMA) in place of an open object,
    so that the contract says what `overrides` may hold. The service validates it."""
    from tenants.config import SCHEMA

    schema.clear()
    schema.update(copy.deepcopy({k: v for k, v in SCHEMA.items() if k not in ("$schema", "$id")}))
    schema["x-schema-id"] = SCHEMA["$id"]  # also published whole: tenant-config.schema.json


def _config_valid(overrides: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    """The whole config schema (and a real time zone) already at step 5 of the pipeline;
    the service checks it again on the worker (and answers its own validation_error)."""
    from tenants.config import config_validate

    if FROM_MESSAGE in (info.context or {}):
        config_validate(overrides)  # ConfigInvalid is a ValueError: paths and rules, no values
    return overrides


TenantConfigOverrides = Annotated[
    dict[str, Any], Field(json_schema_extra=_config_schema), AfterValidator(_config_valid)
]


class TenantConfigSet(Payload):
    """Replaces the tenant's overrides; `expected_version` refuses a lost update (`conflict`)."""

    overrides: TenantConfigOverrides
    expected_version: int | None = Field(default=None, ge=0)


class MemberEmail(Payload):
    """Names a member of the tenant by the email of their account."""

    email: Email


class Member(Result):
    user_id: ObjectId
    email: Email
    name: ShortText | None
    role: TenantRole
    joined_at: datetime


class MemberList(ListResult[Member]):
    pass


class PrimaryTransfer(Result):
    previous: Member  # now a (secondary) owner
    current: Member  # the new primary owner


class MemberInvite(Payload):
    email: Email
    name: ShortText | None = None
    role: Literal["member"] = "member"  # owners are made with tenants.owners.delegate


class Invitation(Result):
    id: ObjectId
    email: Email
    role: Literal["member"]
    status: Literal["pending", "accepted", "expired"]
    invited_at: datetime
    expires_at: datetime | None


def _by(ctx) -> dict:
    """Who acts, and whether by virtue of a super-admin grant rather than a membership
    (decided as for the action's audit entry: tenants.roles.acting_as_super_admin)."""
    spec = registry.get(ctx.action, ctx.version)
    as_super_admin = acting_as_super_admin(roles=ctx.roles, action_roles=spec.roles)
    return {"by": ctx.actor, "as_super_admin": as_super_admin}


@action(
    "tenants.create",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Create a tenant (its schema) and invite its primary owner.",
    input=TenantCreate,
    output=Tenant,
    timeout_s=120,
    state="under_dev",
)
def tenants_create(ctx, payload: TenantCreate) -> Tenant:
    from tenants import services

    tenant = services.tenant_provision(
        slug=payload.slug,
        name=payload.name,
        primary_owner_email=payload.primary_owner_email,
        config=payload.config,
        **_by(ctx),
    )
    return Tenant(**services.tenant_describe(tenant=tenant))


@action(
    "tenants.list",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="List the tenants of the platform.",
    input=TenantQuery,
    output=TenantList,
    state="under_dev",
)
def tenants_list(ctx, payload: TenantQuery) -> TenantList:
    from tenants import services

    return TenantList(
        **services.tenant_list(search=payload.search, limit=payload.limit, cursor=payload.cursor)
    )


@action(
    "tenants.get",
    channel="admin",
    roles=OWNERS,
    summary="Describe the current tenant.",
    input=Empty,
    output=Tenant,
    state="under_dev",
)
def tenants_get(ctx, payload: Empty) -> Tenant:
    from tenants import services

    return Tenant(**services.tenant_describe(tenant=ctx.tenant_obj))


@action(
    "tenants.config.get",
    channel="admin",
    roles=OWNERS,
    summary="Read the tenant's config: its overrides and the effective config.",
    input=Empty,
    output=TenantConfig,
    state="under_dev",
)
def tenants_config_get(ctx, payload: Empty) -> TenantConfig:
    from tenants import services

    return TenantConfig(**services.config_get(tenant=ctx.tenant_obj))


@action(
    "tenants.config.set",
    channel="admin",
    roles=OWNERS,
    summary="Replace the tenant's config overrides (validated, versioned).",
    input=TenantConfigSet,
    output=TenantConfig,
    state="under_dev",
)
def tenants_config_set(ctx, payload: TenantConfigSet) -> TenantConfig:
    from tenants import services

    config = services.config_set(
        tenant=ctx.tenant_obj,
        overrides=payload.overrides,
        expected_version=payload.expected_version,
        **_by(ctx),
    )
    return TenantConfig(**config)


@action(
    "tenants.owners.list",
    channel="admin",
    roles=OWNERS,
    summary="List the owners of the tenant, primary owner included.",
    input=Page,
    output=MemberList,
    state="under_dev",
)
def tenants_owners_list(ctx, payload: Page) -> MemberList:
    from tenants import services

    return MemberList(
        **services.owner_list(tenant=ctx.tenant_obj, limit=payload.limit, cursor=payload.cursor)
    )


@action(
    "tenants.owners.delegate",
    channel="admin",
    roles=PRIMARY_OWNER,
    summary="Make a member of the tenant a (secondary) owner.",
    input=MemberEmail,
    output=Member,
    state="under_dev",
)
def tenants_owners_delegate(ctx, payload: MemberEmail) -> Member:
    from tenants import services

    membership = services.owner_delegate(tenant=ctx.tenant_obj, email=payload.email, **_by(ctx))
    return Member(**services.member_describe(membership))


@action(
    "tenants.owners.revoke",
    channel="admin",
    roles=PRIMARY_OWNER,
    summary="Make a secondary owner a plain member again.",
    input=MemberEmail,
    output=Member,
    state="under_dev",
)
def tenants_owners_revoke(ctx, payload: MemberEmail) -> Member:
    from tenants import services

    membership = services.owner_revoke(tenant=ctx.tenant_obj, email=payload.email, **_by(ctx))
    return Member(**services.member_describe(membership))


@action(
    "tenants.primary.transfer",
    channel="admin",
    roles=PRIMARY_OWNER,
    summary="Hand the primary ownership to an existing owner.",
    input=MemberEmail,
    output=PrimaryTransfer,
    state="under_dev",
)
def tenants_primary_transfer(ctx, payload: MemberEmail) -> PrimaryTransfer:
    from tenants import services

    previous, current = services.primary_transfer(
        tenant=ctx.tenant_obj, email=payload.email, **_by(ctx)
    )
    return PrimaryTransfer(
        previous=Member(**services.member_describe(previous)),
        current=Member(**services.member_describe(current)),
    )


@action(
    "tenants.members.invite",
    channel="admin",
    roles=OWNERS,
    summary="Invite an email address to the tenant as a member (pending until accepted).",
    input=MemberInvite,
    output=Invitation,
    state="under_dev",
)
def tenants_members_invite(ctx, payload: MemberInvite) -> Invitation:
    from tenants import services

    invitation = services.member_invite(
        tenant=ctx.tenant_obj, email=payload.email, name=payload.name, **_by(ctx)
    )
    return Invitation(**invitation)


@action(
    "tenants.members.remove",
    channel="admin",
    roles=OWNERS,
    summary="Remove a member from the tenant (not an owner: revoke first).",
    input=MemberEmail,
    output=Deleted,
    state="under_dev",
)
def tenants_members_remove(ctx, payload: MemberEmail) -> Deleted:
    from tenants import services

    removed = services.member_remove(tenant=ctx.tenant_obj, email=payload.email, **_by(ctx))
    return Deleted(id=removed)


class InvitationAccept(Payload):
    """The token of the invitation mail; `new_password` when the address has no account
    yet (it is created with it). Sent without a credential, to the inviting tenant."""

    token: Secret
    new_password: NewPassword | None = None


@action(
    "tenants.invitations.accept",
    channel="user",
    roles=PUBLIC,
    summary="Accept an invitation to the tenant with the mailed token: become a member.",
    input=InvitationAccept,
    output=Member,
    state="under_dev",
)
def tenants_invitations_accept(ctx, payload: InvitationAccept) -> Member:
    from tenants import services

    membership = services.invitation_accept(
        tenant=ctx.tenant_obj, token=payload.token, new_password=payload.new_password
    )
    return Member(**services.member_describe(membership))
