"""Tenants: lookup, creation (demo seed), provisioning, description and listing."""

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery

from tenants.accounts import password_reset_request
from tenants.config import config_validate
from tenants.errors import TenancyError, conflict
from tenants.identity import Actor
from tenants.models import (
    RESERVED_SLUGS,
    TENANT_SLUG_PATTERN,
    Membership,
    Tenant,
    TenantConfigVersion,
    User,
)
from tenants.roles import MembershipRole
from tenants.services._shared import audit_write


def tenant_get(*, slug: str) -> Tenant | None:
    if slug in RESERVED_SLUGS:
        return None
    return Tenant.objects.filter(schema_name=slug).first()


@transaction.atomic
def tenant_create(*, slug: str, name: str, domain: str | None = None) -> Tenant:
    """Create a tenant and its schema (idempotent on slug). Used by the demo seed."""
    from tenants.models import Domain

    tenant = Tenant.objects.filter(schema_name=slug).first()
    if tenant is None:
        tenant = Tenant(schema_name=slug, name=name)
        tenant.save(verbosity=0)
        Domain.objects.create(tenant=tenant, domain=domain or f"{slug}.localhost", is_primary=True)
    return tenant


def tenant_provision(
    *,
    slug: str,
    name: str,
    primary_owner_email: str,
    config: dict | None = None,
    by: Actor | None,
    as_super_admin: bool = False,
    progress: Callable[[str], None] = lambda step: None,
) -> Tenant:
    """Provision a tenant: its schema, its primary owner and its (validated) config.

    A new owner account gets no password; they are sent a reset link to set one.
    """
    from tenants.models import Domain

    if slug in RESERVED_SLUGS:
        raise TenancyError("validation_error", f"{slug!r} is a reserved name.")
    if not re.fullmatch(TENANT_SLUG_PATTERN.strip("^$"), slug):
        # The envelope's rule: a tenant no message could name would be unreachable.
        raise TenancyError(
            "validation_error", "A tenant slug is 2-40 of a-z, 0-9 and _, starting with a letter."
        )
    if config:
        config_validate(config)
    progress("checking the slug")
    with transaction.atomic():
        if Tenant.objects.filter(schema_name=slug).exists():
            raise conflict(f"A tenant {slug!r} exists already.", slug=slug)
        progress("creating the schema")
        tenant = Tenant(schema_name=slug, name=name, config=config or {})
        tenant.save(verbosity=0)
        Domain.objects.create(tenant=tenant, domain=f"{slug}.localhost", is_primary=True)
        progress("creating the primary owner")
        owner = User.objects.filter(email=primary_owner_email.lower()).first()
        invited = owner is None
        if owner is None:
            owner = User.objects.create_user(primary_owner_email, None)
        Membership.objects.create(user=owner, tenant=tenant, role=MembershipRole.PRIMARY_OWNER)
        progress("storing the config")
        TenantConfigVersion.objects.create(
            tenant=tenant,
            version=0,
            overrides=tenant.config,
            changed_by_id=by.id if by is not None else None,
        )
        audit_write(
            by=by,
            tenant=tenant,
            action="tenants.create",
            summary={
                "slug": slug,
                "primary_owner": owner.email,
                "config_keys": sorted(config or {}),
            },
            as_super_admin=as_super_admin,
        )
    if invited:
        progress("inviting the primary owner")
        transaction.on_commit(partial(password_reset_request, email=owner.email, invited_to=tenant))
    progress("done")
    return tenant


def tenant_describe(*, tenant: Tenant) -> dict[str, Any]:
    primary = (
        tenant.memberships.filter(role=MembershipRole.PRIMARY_OWNER).select_related("user").first()
    )
    return {
        "slug": tenant.schema_name,
        "name": tenant.name,
        "primary_owner_email": primary.user.email if primary else None,
        "member_count": tenant.memberships.count(),
        "created_at": tenant.created_at,
    }


def tenant_list(*, search: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """Tenants by slug; the cursor is the last slug of the previous page."""
    tenants = Tenant.objects.exclude(schema_name__in=RESERVED_SLUGS).order_by("schema_name")
    if search:
        tenants = tenants.filter(Q(schema_name__icontains=search) | Q(name__icontains=search))
    if cursor:
        tenants = tenants.filter(schema_name__gt=cursor)
    primary = Membership.objects.filter(tenant=OuterRef("pk"), role=MembershipRole.PRIMARY_OWNER)
    page = list(
        tenants.annotate(
            members=Count("memberships"),
            primary_email=Subquery(primary.values("user__email")[:1]),
        )[: limit + 1]
    )
    items = [
        {
            "slug": t.schema_name,
            "name": t.name,
            "primary_owner_email": t.primary_email,
            "member_count": t.members,
            "created_at": t.created_at,
        }
        for t in page[:limit]
    ]
    more = len(page) > limit
    return {"items": items, "page": {"next_cursor": items[-1]["slug"] if more else None}}
