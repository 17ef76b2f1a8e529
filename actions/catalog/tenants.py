"""Tenants: creation, configuration, owners and members (admin channel)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import ListResult, TenantRole
from actions.payloads import (
    Deleted,
    Email,
    Empty,
    JsonObject,
    ObjectId,
    Page,
    Payload,
    Result,
    ShortText,
    TenantSlug,
)
from actions.registry import DEVELOPERS, OWNERS, PRIMARY_OWNER, dummy


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


class TenantConfigSet(Payload):
    """Replaces the tenant's overrides; `expected_version` refuses a lost update (`conflict`)."""

    overrides: JsonObject
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


dummy(  # TODO
    "tenants.create",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Create a tenant (its schema) and invite its primary owner.",
    input=TenantCreate,
    output=Tenant,
    timeout_s=120,
)
dummy(  # TODO
    "tenants.list",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="List the tenants of the platform.",
    input=TenantQuery,
    output=TenantList,
)
dummy(  # TODO
    "tenants.get",
    channel="admin",
    roles=OWNERS,
    summary="Describe the current tenant.",
    input=Empty,
    output=Tenant,
)
dummy(  # TODO
    "tenants.config.get",
    channel="admin",
    roles=OWNERS,
    summary="Read the tenant's config: its overrides and the effective config.",
    input=Empty,
    output=TenantConfig,
)
dummy(  # TODO
    "tenants.config.set",
    channel="admin",
    roles=OWNERS,
    summary="Replace the tenant's config overrides (validated, versioned).",
    input=TenantConfigSet,
    output=TenantConfig,
)
dummy(  # TODO
    "tenants.owners.list",
    channel="admin",
    roles=OWNERS,
    summary="List the owners of the tenant, primary owner included.",
    input=Page,
    output=MemberList,
)
dummy(  # TODO
    "tenants.owners.delegate",
    channel="admin",
    roles=PRIMARY_OWNER,
    summary="Make a member of the tenant a (secondary) owner.",
    input=MemberEmail,
    output=Member,
)
dummy(  # TODO
    "tenants.owners.revoke",
    channel="admin",
    roles=PRIMARY_OWNER,
    summary="Make a secondary owner a plain member again.",
    input=MemberEmail,
    output=Member,
)
dummy(  # TODO
    "tenants.primary.transfer",
    channel="admin",
    roles=PRIMARY_OWNER,
    summary="Hand the primary ownership to an existing owner.",
    input=MemberEmail,
    output=PrimaryTransfer,
)
dummy(  # TODO
    "tenants.members.invite",
    channel="admin",
    roles=OWNERS,
    summary="Invite a person to the tenant as a member.",
    input=MemberInvite,
    output=Invitation,
)
dummy(  # TODO
    "tenants.members.remove",
    channel="admin",
    roles=OWNERS,
    summary="Remove a member from the tenant (not an owner: revoke first).",
    input=MemberEmail,
    output=Deleted,
)
