"""The demo: tenants `acme` and `beta`, their people and a platform developer; seeding
them (`manage.py seed_demo`) and putting them back as seeded (`demo.reset`)."""

import os
from typing import Any

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from tenants.errors import TenancyError
from tenants.identity import Actor
from tenants.models import Invitation, Membership, Tenant, TenantConfigVersion, User
from tenants.roles import MembershipRole
from tenants.services._shared import audit_write
from tenants.services.members import membership_ensure
from tenants.services.tenants import tenant_create
from tenants.services.users import user_ensure

DEFAULT_PASSWORD = "switchboard-demo"
TENANTS = {"acme": "Acme Corporation", "beta": "Beta Industries"}
USERS = [
    ("owner@acme.test", "acme", MembershipRole.PRIMARY_OWNER),
    ("member@acme.test", "acme", MembershipRole.MEMBER),
    ("owner@beta.test", "beta", MembershipRole.PRIMARY_OWNER),
    ("member@beta.test", "beta", MembershipRole.MEMBER),
]
DEVELOPER = "dev@switchboard.test"


def demo_password() -> str:
    return os.environ.get("SWITCHBOARD_DEMO_PASSWORD", DEFAULT_PASSWORD)


def demo_seed() -> dict[str, Tenant]:
    """Create what is missing of the demo (idempotent; existing users keep passwords)."""
    password = demo_password()
    tenants = {slug: tenant_create(slug=slug, name=name) for slug, name in TENANTS.items()}
    for email, slug, role in USERS:
        user = user_ensure(email=email, password=password)
        membership_ensure(user=user, tenant=tenants[slug], role=role)
    user_ensure(email=DEVELOPER, password=password, name="Platform developer", is_developer=True)
    return tenants


def _sessions_end(user_ids: list[int], now) -> int:
    """Every JWT of these users issued before `now` dies; their admin-site sessions go."""
    User.objects.filter(pk__in=user_ids).update(tokens_valid_after=now)
    ended = 0
    wanted = {str(pk) for pk in user_ids}
    for session in Session.objects.filter(expire_date__gt=now).iterator():
        if session.get_decoded().get("_auth_user_id") in wanted:
            session.delete()
            ended += 1
    return ended


def demo_reset_people(*, slug: str, by: Actor | None) -> dict[str, Any]:
    """Put a demo tenant's people and config back as seeded and end their sessions.

    Members who are not in the seed are removed, the seed's members get their seeded
    role and the demo password back, open invitations go, the config overrides are
    emptied (a new config version), and everyone who was a member signs in again.
    Refuses a tenant that is not part of the demo. The business data in the tenant's
    schema is the caller's to purge (actions.purge)."""
    if slug not in TENANTS:
        raise TenancyError("forbidden", f"{slug!r} is not a demo tenant ({', '.join(TENANTS)}).")
    now = timezone.now()
    password = demo_password()
    with transaction.atomic():
        tenant = tenant_create(slug=slug, name=TENANTS[slug])
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        people = list(Membership.objects.filter(tenant=tenant).values_list("user_id", flat=True))
        seeded = [(email, role) for email, s, role in USERS if s == slug]
        keep = []
        written = 0
        # The primary owner last: at most one primary owner at any moment.
        Membership.objects.filter(tenant=tenant).delete()
        for email, role in sorted(seeded, key=lambda p: p[1] == MembershipRole.PRIMARY_OWNER):
            user = user_ensure(email=email, password=password)
            user.set_password(password)
            user.save(update_fields=["password"])
            Membership.objects.create(user=user, tenant=tenant, role=role)
            keep.append(user.pk)
            written += 1
        removed = len(set(people) - set(keep))
        invitations = Invitation.objects.filter(tenant=tenant).delete()[0]
        tenant.config = {}
        tenant.config_version += 1
        tenant.save(update_fields=["config", "config_version"])
        TenantConfigVersion.objects.create(
            tenant=tenant,
            version=tenant.config_version,
            overrides={},
            changed_by_id=by.id if by is not None else None,
        )
        written += 1
        sessions = _sessions_end(sorted(set(people) | set(keep)), now)
        summary = {
            "members_removed": removed,
            "invitations_removed": invitations,
            "users_signed_out": len(set(people) | set(keep)),
            "admin_sessions_ended": sessions,
            "config_version": tenant.config_version,
        }
        audit_write(by=by, tenant=tenant, action="demo.reset", summary=summary)
    return {"tenant": tenant, "purged": removed + invitations, "seeded": written, **summary}
