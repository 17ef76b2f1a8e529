"""Super-admin grants: a developer's time-boxed promotion on one tenant, its end (demoted
or expired, each audited once) and the grant an action was done under."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from audit import admin_log
from tenants.errors import TenancyError, conflict, not_found
from tenants.identity import Actor
from tenants.models import RESERVED_SLUGS, GrantEnd, Membership, SuperAdminGrant, Tenant
from tenants.roles import IMPLIED_ROLES, MembershipRole, Role, acting_as_super_admin
from tenants.services._shared import audit_write
from tenants.services.users import user_get

MAX_PROMOTION_MINUTES = 8 * 60
DEFAULT_PROMOTION_MINUTES = 60


def superadmin_grant_acted_under(
    *, user_id: int, tenant_slug: str, at, action_roles: tuple[str, ...] | None
) -> SuperAdminGrant | None:
    """The super-admin grant a user acted under at instant `at` on a tenant, or None.

    They acted as super admin when a grant of theirs was live then (granted, not yet
    ended or expired) and tenants.roles.acting_as_super_admin says so for their
    membership roles and the action's (`action_roles`). One query, for the audit hook of
    every finished action (actions.audit_trail.action_log_write).
    """
    if tenant_slug in RESERVED_SLUGS:
        return None
    grant = (
        SuperAdminGrant.objects.filter(
            user_id=user_id,
            tenant__schema_name=tenant_slug,
            granted_at__lte=at,
            expires_at__gt=at,
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .annotate(
            member_role=Subquery(
                Membership.objects.filter(user_id=user_id, tenant_id=OuterRef("tenant_id")).values(
                    "role"
                )[:1]
            )
        )
        .order_by("-granted_at")
        .first()
    )
    if grant is None:
        return None
    held = IMPLIED_ROLES[MembershipRole(grant.member_role)] if grant.member_role else set()
    if not acting_as_super_admin(roles={Role.SUPER_ADMIN, *held}, action_roles=action_roles):
        return None  # their membership was enough: acting as themselves
    return grant


def superadmin_expire_due(*, user_id: int | None = None, tenant: Tenant | None = None) -> int:
    """Close every grant past its expiry and audit each once. Returns how many."""
    due = SuperAdminGrant.objects.filter(ended_at__isnull=True, expires_at__lte=timezone.now())
    if user_id is not None:
        due = due.filter(user_id=user_id)
    if tenant is not None:
        due = due.filter(tenant=tenant)
    closed = 0
    with transaction.atomic():
        # skip_locked: a concurrent sweep or check-on-use audits a grant, never both.
        for grant in due.select_for_update(skip_locked=True).select_related("user", "tenant"):
            grant.ended_at, grant.end_reason = grant.expires_at, GrantEnd.EXPIRED
            grant.save(update_fields=["ended_at", "end_reason"])
            admin_log.admin_audit_write(
                actor=grant.user.email,
                tenant=grant.tenant.schema_name,
                action="superadmin.expire",
                outcome="ok",
                payload_summary={"grant_id": grant.pk, "expires_at": grant.expires_at.isoformat()},
                reason=grant.reason,
                as_super_admin=True,
            )
            closed += 1
    return closed


def superadmin_promote(
    *, developer: Actor, tenant: Tenant, reason: str, minutes: int = DEFAULT_PROMOTION_MINUTES
) -> SuperAdminGrant:
    """Make a developer super admin on one tenant until `minutes` from now."""
    if not 1 <= minutes <= MAX_PROMOTION_MINUTES:
        raise TenancyError("validation_error", f"The expiry is 1 to {MAX_PROMOTION_MINUTES} min.")
    user = user_get(user_id=developer.id)
    if not user.is_developer:
        raise TenancyError("forbidden", "Only platform developers may be promoted.")
    superadmin_expire_due(user_id=user.pk, tenant=tenant)
    now = timezone.now()
    try:
        with transaction.atomic():
            grant = SuperAdminGrant.objects.create(
                user=user,
                tenant=tenant,
                reason=reason,
                granted_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
            audit_write(
                by=developer,
                tenant=tenant,
                action="superadmin.promote",
                summary={"grant_id": grant.pk, "expires_at": grant.expires_at.isoformat()},
                reason=reason,
                as_super_admin=True,
            )
    except IntegrityError:
        raise conflict(f"You are super admin on {tenant.schema_name} already.") from None
    return grant


@transaction.atomic
def superadmin_demote(*, developer: Actor, tenant: Tenant) -> SuperAdminGrant:
    """End the developer's live grant on the tenant before its expiry."""
    grant = (
        SuperAdminGrant.objects.select_for_update()
        .filter(
            user_id=developer.id,
            tenant=tenant,
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if grant is None:
        raise not_found(f"No live super-admin grant on {tenant.schema_name}.")
    grant.ended_at, grant.end_reason = timezone.now(), GrantEnd.DEMOTED
    grant.save(update_fields=["ended_at", "end_reason"])
    audit_write(
        by=developer,
        tenant=tenant,
        action="superadmin.demote",
        summary={"grant_id": grant.pk},
        reason=grant.reason,
        as_super_admin=True,
    )
    return grant
