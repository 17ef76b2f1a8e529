"""Tenant services: lookups and role resolution used by the pipeline.

Writes to tenants, users and memberships go through the `<entity>_<verb>` functions here.
"""

from django.db import transaction

from tenants.identity import Actor
from tenants.models import RESERVED_SLUGS, Membership, Role, Tenant, User

PLATFORM = "platform"
# A membership role implies the roles below it.
_IMPLIED = {
    Role.MEMBER: {"member"},
    Role.OWNER: {"member", "owner"},
    Role.PRIMARY_OWNER: {"member", "owner", "primary_owner"},
}


def tenant_get(*, slug: str) -> Tenant | None:
    if slug in RESERVED_SLUGS:
        return None
    return Tenant.objects.filter(schema_name=slug).first()


def roles_for(*, actor: Actor | None, tenant: Tenant | None) -> frozenset[str]:
    """Every role `actor` holds on `tenant` (None = the platform)."""
    if actor is None:
        return frozenset({"anonymous"})
    roles = {"anonymous"}
    if actor.is_developer:
        roles.add("developer")
    if tenant is not None:
        membership = Membership.objects.filter(user_id=actor.id, tenant=tenant).first()
        if membership is not None:
            roles |= _IMPLIED[Role(membership.role)]
    return frozenset(roles)


@transaction.atomic
def tenant_create(*, slug: str, name: str, domain: str | None = None) -> Tenant:
    """Create a tenant and its schema (idempotent on slug)."""
    from tenants.models import Domain

    tenant = Tenant.objects.filter(schema_name=slug).first()
    if tenant is None:
        tenant = Tenant(schema_name=slug, name=name)
        tenant.save(verbosity=0)
        Domain.objects.create(tenant=tenant, domain=domain or f"{slug}.localhost", is_primary=True)
    return tenant


def user_ensure(*, email: str, password: str, name: str = "", is_developer: bool = False) -> User:
    """Get or create a user; an existing user keeps its password."""
    user = User.objects.filter(email=email.lower()).first()
    if user is None:
        user = User.objects.create_user(
            email, password, name=name, is_developer=is_developer, is_staff=is_developer
        )
    return user


def membership_ensure(*, user: User, tenant: Tenant, role: Role) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        user=user, tenant=tenant, defaults={"role": role}
    )
    return membership


def user_authenticate(*, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same cost either way)."""
    user = User.objects.filter(email=email.lower(), is_active=True).first()
    if user is None:
        User().set_password(password)  # spend the hashing time anyway: no user enumeration
        return None
    return user if user.check_password(password) else None
