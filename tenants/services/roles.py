"""Roles: what a user holds on a tenant (or the platform) now, and where the admin site
lets them look."""

from django.utils import timezone

from tenants.identity import Actor
from tenants.models import Membership, SuperAdminGrant, Tenant, User
from tenants.roles import OWNER_ROLES


def roles_for(*, actor: Actor | None, tenant: Tenant | None) -> frozenset[str]:
    """Every role `actor` holds on `tenant` (None = the platform), in one query: the rules
    are those of `access_resolve` (tenants/services/access.py), which the pipeline uses.

    `super_admin` comes only from a live grant (not demoted, not past its expiry) of a
    developer, and is never mixed with a membership role it does not hold. A grant found
    expired but not yet closed is closed (and audited) on the way.
    """
    from tenants.services.access import access_resolve

    slug = tenant.schema_name if tenant is not None else None
    return access_resolve(user_id=actor.id if actor is not None else None, slug=slug).roles


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
