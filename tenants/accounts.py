"""Account services: sign-in with throttling, password reset and change.

Failed sign-ins are counted per email in the database (one indexed count under a
per-email advisory lock), which needs no extra service and is shared by every web and
worker process, and by the Django admin site's login form.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from tenants.errors import TenancyError
from tenants.models import LoginFailure, PasswordResetToken, User

LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
RESET_TOKEN_TTL = timedelta(hours=1)
LOGIN_LOCK = 0x5357_4C47  # "SWLG": first key of the per-email advisory lock of sign-ins


def user_authenticate(*, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same cost either way)."""
    user = User.objects.filter(email=email.lower(), is_active=True).first()
    if user is None:
        User().set_password(password)  # spend the hashing time anyway: no user enumeration
        return None
    return user if user.check_password(password) else None


def user_login(*, email: str, password: str, source: str = "") -> User:
    """Check the credentials; too many recent failures on the email answer rate_limited
    before the password is even checked (so guessing gains nothing while throttled).

    Count, check and record run under a transaction-scoped advisory lock on the email:
    concurrent attempts on one account are serialised, so no burst of parallel guesses
    gets past the limit. `source` is the client address where the caller knows it (the
    Django admin's login form); the action worker does not, and leaves it blank.
    """
    email = email.lower()
    since = timezone.now() - LOGIN_FAILURE_WINDOW
    throttled, user = False, None
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOGIN_LOCK, email])
        if LoginFailure.objects.filter(email=email, at__gte=since).count() >= LOGIN_FAILURE_LIMIT:
            throttled = True
        else:
            user = user_authenticate(email=email, password=password)
            if user is None:
                LoginFailure.objects.create(email=email, source=(source or "")[:100])
            else:
                LoginFailure.objects.filter(email=email).delete()
    # Raised after the commit: the failure must count even though the sign-in fails.
    if throttled:
        raise TenancyError(
            "rate_limited",
            "Too many failed sign-ins for this account; try again in a few minutes.",
            details={"retry_after_s": int(LOGIN_FAILURE_WINDOW.total_seconds())},
        )
    if user is None:
        raise TenancyError("unauthenticated", "Wrong email or password.")
    return user


def token_digest(token: str) -> str:
    """What is stored of a mailed single-use token (reset, invitation): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


_digest = token_digest


def password_reset_request(*, email: str, invited_to=None) -> datetime | None:
    """Email a single-use reset token to the account, if there is one.

    The caller's answer must not depend on the result (no account enumeration); the
    expiry is returned for invitations only.
    """
    user = User.objects.filter(email=email.lower(), is_active=True).first()
    if user is None:
        return None
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + RESET_TOKEN_TTL
    PasswordResetToken.objects.create(user=user, token_hash=_digest(token), expires_at=expires_at)
    brand = invited_to.name if invited_to is not None else "Switchboard"
    opening = (
        f"You have been invited to {brand}. Set your password with this token"
        if invited_to is not None
        else "Someone asked to reset the password of your Switchboard account. "
        "If it was you, use this token"
    )
    send_mail(
        subject=f"{brand}: set your password",
        message=f"{opening} (valid for one hour, once):\n\n{token}\n\n"
        "Send it with the action auth.reset.",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return expires_at


def password_set(*, user: User, new_password: str) -> None:
    """Validate and set a new password; every token issued so far stops working."""
    _set_password(user, new_password)


def _set_password(user: User, new_password: str) -> None:
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise TenancyError(
            "validation_error",
            "The new password is not acceptable.",
            details={
                "errors": [{"path": "payload/new_password", "reason": m} for m in exc.messages]
            },
        ) from None
    user.set_password(new_password)
    # Every token issued so far stops working: a changed password ends all sessions, and
    # every reset link still open (one mailed before is no proof any more).
    now = timezone.now()
    user.tokens_valid_after = now
    user.save(update_fields=["password", "tokens_valid_after"])
    PasswordResetToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)


@transaction.atomic
def password_reset(*, token: str, new_password: str) -> User:
    """Use a reset token (once, before its expiry) to set a new password."""
    reset = (
        PasswordResetToken.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=_digest(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if reset is None or not reset.user.is_active:
        raise TenancyError("unauthenticated", "The reset token is not valid or has expired.")
    reset.used_at = timezone.now()
    reset.save(update_fields=["used_at"])
    _set_password(reset.user, new_password)
    return reset.user


@transaction.atomic
def password_change(*, user_id: int, current_password: str, new_password: str) -> User:
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not user.check_password(current_password):
        raise TenancyError("forbidden", "The current password is wrong.")
    _set_password(user, new_password)
    return user


def tokens_revoke_all(*, user_id: int) -> None:
    """Every token of the user issued before now stops working (auth.logout)."""
    User.objects.filter(pk=user_id).update(tokens_valid_after=timezone.now())
