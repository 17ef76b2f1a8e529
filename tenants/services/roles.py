"""Roles: what a user holds on a tenant (or the platform) now, and where the admin site
lets them look."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from tenants.identity import Actor
from tenants.models import Membership, SuperAdminGrant, Tenant, User
from tenants.roles import IMPLIED_ROLES, OWNER_ROLES, MembershipRole, Role
from tenants.services.superadmin import superadmin_expire_due


def roles_for(*, actor: Actor | None, tenant: Tenant | None) -> frozenset[str]:
    """Every role `actor` holds on `tenant` (None = the platform), in one query.

    `super_admin` comes only from a live grant (not demoted, not past its expiry) of a
    developer, and is never mixed with a membership role it does not hold: an action
    run as super admin is recognisable from `ctx.roles`. A grant found expired but not
    yet closed is closed (and audited) here, so expiry is audited on first use at the
    latest; the beat sweep does it otherwise.
    """
    if actor is None:
        return frozenset({str(Role.ANONYMOUS)})
    users = User.objects.filter(pk=actor.id, is_active=True)
    row: Mapping[str, Any] | None
    if tenant is None:
        row = users.values("is_developer").first()
    else:
        now = timezone.now()
        open_grants = SuperAdminGrant.objects.filter(
            user=OuterRef("pk"), tenant=tenant, ended_at__isnull=True
        )
        row = (
            users.annotate(
                member_role=Subquery(
                    Membership.objects.filter(user=OuterRef("pk"), tenant=tenant).values("role")[:1]
                ),
                promoted=Exists(open_grants.filter(expires_at__gt=now)),
                lapsed=Exists(open_grants.filter(expires_at__lte=now)),
            )
            .values("is_developer", "member_role", "promoted", "lapsed")
            .first()
        )
    if row is None:
        return frozenset({str(Role.ANONYMOUS)})
    roles = {str(Role.ANONYMOUS)}
    if tenant is None:
        roles.add(str(Role.AUTHENTICATED))  # signed in, acting on the platform (account actions)
    if row["is_developer"]:
        roles.add(str(Role.DEVELOPER))
        if row.get("promoted"):
            roles.add(str(Role.SUPER_ADMIN))
    if member_role := row.get("member_role"):
        roles |= IMPLIED_ROLES[MembershipRole(str(member_role))]
    if row.get("lapsed"):
        superadmin_expire_due(user_id=actor.id, tenant=tenant)
    return frozenset(roles)


def admin_tenants_for(*, user: User) -> list[int]:
    """Tenant ids whose objects `user` may see in the Django admin site: the tenants they
    own, and those they are live super admin on."""
    owned = Membership.objects.filter(user=user, role__in=OWNER_ROLES).values_list(
        "tenant_id", flat=True
    )
    ids = set(owned)
    if user.is_developer:
        ids |= set(
            SuperAdminGrant.objects.filter(
                user=user, ended_at__isnull=True, expires_at__gt=timezone.now()
            ).values_list("tenant_id", flat=True)
        )
    return sorted(ids)
