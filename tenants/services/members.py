"""Owners and members of a tenant: listing, role changes, the primary transfer, removal."""

from typing import Any

from django.db import transaction

from config.cursors import number
from tenants.errors import conflict, not_found
from tenants.identity import Actor
from tenants.models import Membership, Tenant, User
from tenants.roles import OWNER_ROLES, MembershipRole
from tenants.services._shared import audit_write


def _membership(*, tenant: Tenant, email: str, lock: bool = False) -> Membership:
    memberships = Membership.objects.select_related("user")
    if lock:
        memberships = memberships.select_for_update()
    membership = memberships.filter(tenant=tenant, user__email=email.lower()).first()
    if membership is None:
        raise not_found(f"{email} is not a member of {tenant.schema_name}.")
    return membership


def member_describe(membership: Membership) -> dict[str, Any]:
    return {
        "user_id": str(membership.user_id),
        "email": membership.user.email,
        "name": membership.user.name or None,
        "role": membership.role,
        "joined_at": membership.created_at,
    }


def owner_list(*, tenant: Tenant, limit: int, cursor: str | None) -> dict[str, Any]:
    owners = (
        Membership.objects.filter(tenant=tenant, role__in=OWNER_ROLES)
        .select_related("user")
        .order_by("id")
    )
    after = number(cursor)
    if after is not None:
        owners = owners.filter(id__gt=after)
    page = list(owners[: limit + 1])
    more = len(page) > limit
    return {
        "items": [member_describe(m) for m in page[:limit]],
        "page": {"next_cursor": str(page[limit - 1].id) if more else None},
    }


def _role_move(
    *,
    tenant: Tenant,
    email: str,
    from_role: MembershipRole,
    to_role: MembershipRole,
    refusal: str,
    by: Actor | None,
    action: str,
    as_super_admin: bool,
) -> Membership:
    """Move `email` from `from_role` to `to_role`, audited; the caller holds the transaction.

    `refusal` is the conflict message when they hold another role: a template of
    `{email}` and `{role}` (their role), filled by str.format so that an address is never
    read as a template.
    """
    membership = _membership(tenant=tenant, email=email, lock=True)
    if membership.role != from_role:
        raise conflict(refusal.format(email=email, role=membership.role), role=membership.role)
    before = membership.role
    membership.role = to_role
    membership.save(update_fields=["role"])
    audit_write(
        by=by,
        tenant=tenant,
        action=action,
        summary={"email": membership.user.email, "from": before, "to": to_role},
        as_super_admin=as_super_admin,
    )
    return membership


@transaction.atomic
def owner_delegate(
    *, tenant: Tenant, email: str, by: Actor | None, as_super_admin: bool = False
) -> Membership:
    """Make a plain member a secondary owner."""
    return _role_move(
        tenant=tenant,
        email=email,
        from_role=MembershipRole.MEMBER,
        to_role=MembershipRole.OWNER,
        refusal="{email} is already {role}.",
        by=by,
        action="tenants.owners.delegate",
        as_super_admin=as_super_admin,
    )


@transaction.atomic
def owner_revoke(
    *, tenant: Tenant, email: str, by: Actor | None, as_super_admin: bool = False
) -> Membership:
    """Make a secondary owner a plain member (the primary owner transfers first)."""
    return _role_move(
        tenant=tenant,
        email=email,
        from_role=MembershipRole.OWNER,
        to_role=MembershipRole.MEMBER,
        refusal="{email} is not a secondary owner.",
        by=by,
        action="tenants.owners.revoke",
        as_super_admin=as_super_admin,
    )


@transaction.atomic
def primary_transfer(
    *, tenant: Tenant, email: str, by: Actor | None, as_super_admin: bool = False
) -> tuple[Membership, Membership]:
    """Hand the primary role to an existing owner; the previous primary stays an owner.

    Both rows are locked, the old primary is demoted first: the partial unique index
    keeps at most one primary at every instant, the transaction keeps exactly one.
    """
    current = (
        Membership.objects.select_for_update()
        .select_related("user")
        .get(tenant=tenant, role=MembershipRole.PRIMARY_OWNER)
    )
    target = _membership(tenant=tenant, email=email, lock=True)
    if target.pk == current.pk:
        raise conflict(f"{email} is the primary owner already.")
    if target.role != MembershipRole.OWNER:
        raise conflict(f"{email} must be an owner first (tenants.owners.delegate).")
    current.role = MembershipRole.OWNER
    current.save(update_fields=["role"])
    target.role = MembershipRole.PRIMARY_OWNER
    target.save(update_fields=["role"])
    audit_write(
        by=by,
        tenant=tenant,
        action="tenants.primary.transfer",
        summary={"from": current.user.email, "to": target.user.email},
        as_super_admin=as_super_admin,
    )
    return current, target


@transaction.atomic
def member_remove(
    *, tenant: Tenant, email: str, by: Actor | None, as_super_admin: bool = False
) -> str:
    membership = _membership(tenant=tenant, email=email, lock=True)
    if membership.role != MembershipRole.MEMBER:
        raise conflict(f"{email} is {membership.role}: revoke the ownership first.")
    membership_id = str(membership.pk)
    membership.delete()
    audit_write(
        by=by,
        tenant=tenant,
        action="tenants.members.remove",
        summary={"email": email.lower()},
        as_super_admin=as_super_admin,
    )
    return membership_id


def membership_ensure(*, user: User, tenant: Tenant, role: MembershipRole) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    return membership
