"""Invitations: a member joins a tenant only by accepting the mailed, single-use token."""

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from audit import error_log
from tenants.accounts import password_set, token_digest
from tenants.config import config_effective
from tenants.errors import TenancyError, conflict
from tenants.identity import Actor
from tenants.models import Invitation, Membership, Tenant, User
from tenants.roles import MembershipRole
from tenants.services._shared import audit_write

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
        audit_write(
            by=by,
            tenant=tenant,
            action="tenants.members.invite",
            summary={"email": email, "role": MembershipRole.MEMBER, "invitation_id": invitation.pk},
            as_super_admin=as_super_admin,
        )
        transaction.on_commit(lambda: _invitation_mail(invitation, token))
    return {
        "id": str(invitation.pk),
        "email": email,
        "role": MembershipRole.MEMBER.value,
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
        error_log.error_record(
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
        user=user, tenant=tenant, defaults={"role": MembershipRole.MEMBER}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_write(
        by=Actor(id=user.pk, email=user.email),
        tenant=tenant,
        action="tenants.invitations.accept",
        summary={"email": user.email, "invitation_id": invitation.pk, "role": membership.role},
    )
    return membership
