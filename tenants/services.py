"""Tenant services: lookups, role resolution, and every write to tenants, users,
memberships, config and super-admin grants (`<entity>_<verb>`, keyword-only).

Role and config changes write their admin-audit entry in the same transaction as the
change. Expected failures raise tenants.errors.TenancyError with a message-API code.
"""

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from audit import services as audit
from tenants.accounts import password_reset_request, password_set, token_digest
from tenants.config import DEFAULTS, config_effective, config_validate, deep_merge
from tenants.errors import TenancyError, conflict, not_found
from tenants.identity import Actor
from tenants.models import (
    RESERVED_SLUGS,
    TENANT_SLUG_PATTERN,
    GrantEnd,
    Invitation,
    Membership,
    Role,
    SuperAdminGrant,
    Tenant,
    TenantConfigVersion,
    User,
)

PLATFORM = "platform"
MAX_PROMOTION_MINUTES = 8 * 60
DEFAULT_PROMOTION_MINUTES = 60
# A membership role implies the roles below it.
_IMPLIED = {
    Role.MEMBER: {"member"},
    Role.OWNER: {"member", "owner"},
    Role.PRIMARY_OWNER: {"member", "owner", "primary_owner"},
}


# --- lookups and roles -------------------------------------------------------------------


def tenant_get(*, slug: str) -> Tenant | None:
    if slug in RESERVED_SLUGS:
        return None
    return Tenant.objects.filter(schema_name=slug).first()


def roles_for(*, actor: Actor | None, tenant: Tenant | None) -> frozenset[str]:
    """Every role `actor` holds on `tenant` (None = the platform), in one query.

    `super_admin` comes only from a live grant (not demoted, not past its expiry) of a
    developer, and is never mixed with a membership role it does not hold: an action
    run as super admin is recognisable from `ctx.roles`. A grant found expired but not
    yet closed is closed (and audited) here, so expiry is audited on first use at the
    latest; the beat sweep does it otherwise.
    """
    if actor is None:
        return frozenset({"anonymous"})
    users = User.objects.filter(pk=actor.id, is_active=True)
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
        return frozenset({"anonymous"})
    roles = {"anonymous"}
    if tenant is None:
        roles.add("authenticated")  # signed in, acting on the platform (account actions)
    if row["is_developer"]:
        roles.add("developer")
        if row.get("promoted"):
            roles.add("super_admin")
    if row.get("member_role"):
        roles |= _IMPLIED[Role(row["member_role"])]
    if row.get("lapsed"):
        superadmin_expire_due(user_id=actor.id, tenant=tenant)
    return frozenset(roles)


def superadmin_grant_acted_under(
    *, user_id: int, tenant_slug: str, at, action_roles: tuple[str, ...] | None
) -> SuperAdminGrant | None:
    """The super-admin grant a user acted under at instant `at` on a tenant, or None.

    They acted as super admin when a grant of theirs was live then (granted, not yet
    ended or expired) and their membership of the tenant, if any, does not give them the
    action's roles by itself (`action_roles`; None or public: no membership at all). One
    query, for the audit hook of every finished action (audit.services.action_log_write).
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
    held = _IMPLIED[Role(grant.member_role)] if grant.member_role else set()
    needed = set(action_roles or ()) - {"anonymous"}
    if held and (not needed or held & needed):
        return None  # their membership was enough: acting as themselves
    return grant


def user_get(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise TenancyError("unauthenticated", "The account is not active.")
    return user


def memberships_of(*, user: User) -> list[dict[str, str]]:
    return [
        {"tenant": m.tenant.schema_name, "role": m.role}
        for m in user.memberships.select_related("tenant").order_by("tenant_id")
    ]


def _audit(*, by: Actor | None, tenant: Tenant | None, action: str, summary: dict, **extra):
    audit.admin_audit_write(
        actor=by.email if by else None,
        tenant=tenant.schema_name if tenant else None,
        action=action,
        outcome=extra.pop("outcome", "ok"),
        payload_summary=summary,
        **extra,
    )


# --- tenants -------------------------------------------------------------------------------


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
        if invited:
            owner = User.objects.create_user(primary_owner_email, None)
        Membership.objects.create(user=owner, tenant=tenant, role=Role.PRIMARY_OWNER)
        progress("storing the config")
        TenantConfigVersion.objects.create(
            tenant=tenant, version=0, overrides=tenant.config, changed_by_id=by and by.id
        )
        _audit(
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
        transaction.on_commit(lambda: password_reset_request(email=owner.email, invited_to=tenant))
    progress("done")
    return tenant


def tenant_describe(*, tenant: Tenant) -> dict[str, Any]:
    primary = tenant.memberships.filter(role=Role.PRIMARY_OWNER).select_related("user").first()
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
    primary = Membership.objects.filter(tenant=OuterRef("pk"), role=Role.PRIMARY_OWNER)
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


# --- config --------------------------------------------------------------------------------


def config_get(*, tenant: Tenant) -> dict[str, Any]:
    return {
        "overrides": tenant.config or {},
        "effective": config_effective(tenant=tenant),
        "version": tenant.config_version,
    }


def config_set(
    *,
    tenant: Tenant,
    overrides: dict,
    by: Actor | None,
    expected_version: int | None = None,
    as_super_admin: bool = False,
) -> dict[str, Any]:
    """Replace the overrides (validated), keep the version, audit the change."""
    config_validate(overrides)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if expected_version is not None and expected_version != locked.config_version:
            raise conflict(
                f"The config is at version {locked.config_version}, not {expected_version}.",
                version=locked.config_version,
            )
        locked.config = overrides
        locked.config_version += 1
        locked.save(update_fields=["config", "config_version"])
        TenantConfigVersion.objects.create(
            tenant=locked,
            version=locked.config_version,
            overrides=overrides,
            changed_by_id=by and by.id,
        )
        _audit(
            by=by,
            tenant=locked,
            action="tenants.config.set",
            summary={"version": locked.config_version, "keys": sorted(overrides)},
            as_super_admin=as_super_admin,
        )
    return config_get(tenant=locked)


def config_defaults() -> dict[str, Any]:
    return deep_merge(DEFAULTS, {})


# --- owners and members --------------------------------------------------------------------


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
        Membership.objects.filter(tenant=tenant, role__in=[Role.OWNER, Role.PRIMARY_OWNER])
        .select_related("user")
        .order_by("id")
    )
    if cursor and cursor.isdigit():
        owners = owners.filter(id__gt=int(cursor))
    page = list(owners[: limit + 1])
    more = len(page) > limit
    return {
        "items": [member_describe(m) for m in page[:limit]],
        "page": {"next_cursor": str(page[limit - 1].id) if more else None},
    }


def _role_change(*, tenant, membership, role, by, action, as_super_admin) -> Membership:
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _audit(
        by=by,
        tenant=tenant,
        action=action,
        summary={"email": membership.user.email, "from": before, "to": role},
        as_super_admin=as_super_admin,
    )
    return membership


@transaction.atomic
def owner_delegate(
    *, tenant: Tenant, email: str, by: Actor | None, as_super_admin: bool = False
) -> Membership:
    """Make a plain member a secondary owner."""
    membership = _membership(tenant=tenant, email=email, lock=True)
    if membership.role != Role.MEMBER:
        raise conflict(f"{email} is already {membership.role}.", role=membership.role)
    return _role_change(
        tenant=tenant,
        membership=membership,
        role=Role.OWNER,
        by=by,
        action="tenants.owners.delegate",
        as_super_admin=as_super_admin,
    )


@transaction.atomic
def owner_revoke(
    *, tenant: Tenant, email: str, by: Actor | None, as_super_admin: bool = False
) -> Membership:
    """Make a secondary owner a plain member (the primary owner transfers first)."""
    membership = _membership(tenant=tenant, email=email, lock=True)
    if membership.role != Role.OWNER:
        raise conflict(f"{email} is not a secondary owner.", role=membership.role)
    return _role_change(
        tenant=tenant,
        membership=membership,
        role=Role.MEMBER,
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
        .get(tenant=tenant, role=Role.PRIMARY_OWNER)
    )
    target = _membership(tenant=tenant, email=email, lock=True)
    if target.pk == current.pk:
        raise conflict(f"{email} is the primary owner already.")
    if target.role != Role.OWNER:
        raise conflict(f"{email} must be an owner first (tenants.owners.delegate).")
    current.role = Role.OWNER
    current.save(update_fields=["role"])
    target.role = Role.PRIMARY_OWNER
    target.save(update_fields=["role"])
    _audit(
        by=by,
        tenant=tenant,
        action="tenants.primary.transfer",
        summary={"from": current.user.email, "to": target.user.email},
        as_super_admin=as_super_admin,
    )
    return current, target


INVITATION_TTL = timedelta(days=7)


def member_invite(
    *, tenant: Tenant, email: str, name: str | None, by: Actor | None, as_super_admin=False
) -> dict[str, Any]:
    """Invite an email address to the tenant as a member.

    Nobody is added without consent, and the answer is the same whether or not the
    address has an account anywhere on the platform (no enumeration): every invitation
    is `pending` until the invitee accepts it with the mailed token
    (`invitation_accept`, action `tenants.invitations.accept`). A new invitation of the
    same address replaces an open one. The mail leaves after the commit.
    """
    email = email.lower()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        if Membership.objects.filter(tenant=tenant, user__email=email).exists():
            raise conflict(f"{email} is a member of {tenant.schema_name} already.")
        Invitation.objects.filter(tenant=tenant, email=email, accepted_at__isnull=True).delete()
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=email,
            name=name or "",
            token_hash=token_digest(token),
            invited_by_id=by.id if by else None,
            expires_at=timezone.now() + INVITATION_TTL,
        )
        _audit(
            by=by,
            tenant=tenant,
            action="tenants.members.invite",
            summary={"email": email, "role": Role.MEMBER, "invitation_id": invitation.pk},
            as_super_admin=as_super_admin,
        )
        transaction.on_commit(lambda: _invitation_mail(invitation, token))
    return {
        "id": str(invitation.pk),
        "email": email,
        "role": "member",
        "status": "pending",
        "invited_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }


def _invitation_mail(invitation: Invitation, token: str) -> None:
    """After the commit; a failing mail server is logged, the invitation stays (an owner
    may invite again, which replaces it)."""
    tenant = invitation.tenant
    brand = (config_effective(tenant=tenant)["branding"] or {}).get("brand_name") or tenant.name
    try:
        send_mail(
            subject=f"You are invited to {tenant.name} on {brand}",
            message=(
                f"You have been invited to join {tenant.name} ({tenant.schema_name}) as a "
                "member. To accept, send the action tenants.invitations.accept to tenant "
                f"{tenant.schema_name}, without signing in, with this token (valid "
                f"{INVITATION_TTL.days} days, once):\n\n{token}\n\n"
                "If you have no account yet, add `new_password` to choose your password. "
                "If you do not want to join, ignore this mail."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[invitation.email],
        )
    except Exception:
        audit.error_record(
            component="worker",
            trace_id=f"invitation-{invitation.pk}",
            code="internal_error",
            message="could not send the invitation mail",
            tenant=tenant.schema_name,
            action="tenants.members.invite",
            exc_info=True,
        )


@transaction.atomic
def invitation_accept(*, tenant: Tenant, token: str, new_password: str | None = None) -> Membership:
    """Accept an invitation with its token: the invitee becomes a member of `tenant`.

    An address without an account (or an account that never set a password) gets one,
    with `new_password`. The token is single-use and bound to its tenant.
    """
    invitation = (
        Invitation.objects.select_for_update()
        .filter(
            token_hash=token_digest(token),
            tenant=tenant,
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if invitation is None:
        raise TenancyError("unauthenticated", "The invitation is not valid or has expired.")
    user = User.objects.select_for_update().filter(email=invitation.email).first()
    if user is not None and not user.is_active:
        raise TenancyError("unauthenticated", "The invitation is not valid or has expired.")
    if user is None or not user.has_usable_password():
        if not new_password:
            raise TenancyError(
                "validation_error",
                "Choose a password to create your account.",
                details={"errors": [{"path": "payload/new_password", "reason": "required"}]},
            )
        if user is None:
            user = User.objects.create_user(invitation.email, None, name=invitation.name)
        password_set(user=user, new_password=new_password)
    membership, _ = Membership.objects.get_or_create(
        user=user, tenant=tenant, defaults={"role": Role.MEMBER}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    _audit(
        by=Actor(id=user.pk, email=user.email),
        tenant=tenant,
        action="tenants.invitations.accept",
        summary={"email": user.email, "invitation_id": invitation.pk, "role": membership.role},
    )
    return membership


@transaction.atomic
def member_remove(
    *, tenant: Tenant, email: str, by: Actor | None, as_super_admin: bool = False
) -> str:
    membership = _membership(tenant=tenant, email=email, lock=True)
    if membership.role != Role.MEMBER:
        raise conflict(f"{email} is {membership.role}: revoke the ownership first.")
    membership_id = str(membership.pk)
    membership.delete()
    _audit(
        by=by,
        tenant=tenant,
        action="tenants.members.remove",
        summary={"email": email.lower()},
        as_super_admin=as_super_admin,
    )
    return membership_id


# --- super admin ---------------------------------------------------------------------------


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
            audit.admin_audit_write(
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
            _audit(
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
    _audit(
        by=developer,
        tenant=tenant,
        action="superadmin.demote",
        summary={"grant_id": grant.pk},
        reason=grant.reason,
        as_super_admin=True,
    )
    return grant


def admin_tenants_for(*, user: User) -> list[int]:
    """Tenant ids whose objects `user` may see in the Django admin site: the tenants they
    own, and those they are live super admin on."""
    owned = Membership.objects.filter(
        user=user, role__in=[Role.OWNER, Role.PRIMARY_OWNER]
    ).values_list("tenant_id", flat=True)
    ids = set(owned)
    if user.is_developer:
        ids |= set(
            SuperAdminGrant.objects.filter(
                user=user, ended_at__isnull=True, expires_at__gt=timezone.now()
            ).values_list("tenant_id", flat=True)
        )
    return sorted(ids)


# --- users ---------------------------------------------------------------------------------


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
