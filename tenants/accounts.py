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
SOURCE_FAILURE_LIMIT = 20  # failures from one client address, whatever the emails
RESET_TOKEN_TTL = timedelta(hours=1)
LOGIN_LOCK = 0x5357_4C47  # "SWLG": first key of the per-email advisory lock of sign-ins


def user_authenticate(*, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same cost either way)."""
    user = User.objects.filter(email=email.lower(), is_active=True).first()
    if user is None:
        User().set_password(password)  # spend the hashing time anyway: no user enumeration
        return None
    return user if user.check_password(password) else None


def _throttled(*, email: str, source: str) -> bool:
    """Too many recent failures (run under the email's advisory lock).

    Without a client address (the action worker) the email's failures count, wherever they
    came from. With one (the Django admin's forms) the failures on the email *from that
    address* and all failures *from that address* count: one address cannot lock the owner
    out of signing in from another, and one address cannot sweep many accounts.
    """
    recent = LoginFailure.objects.filter(at__gte=timezone.now() - LOGIN_FAILURE_WINDOW)
    if not source:
        return recent.filter(email=email).count() >= LOGIN_FAILURE_LIMIT
    return (
        recent.filter(email=email, source=source).count() >= LOGIN_FAILURE_LIMIT
        or recent.filter(source=source).count() >= SOURCE_FAILURE_LIMIT
    )


def _lock(email: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOGIN_LOCK, email])


def _rate_limited(what: str) -> TenancyError:
    return TenancyError(
        "rate_limited",
        f"Too many {what} for this account; try again in a few minutes.",
        details={"retry_after_s": int(LOGIN_FAILURE_WINDOW.total_seconds())},
    )


def user_login(*, email: str, password: str, source: str = "") -> User:
    """Check the credentials; too many recent failures (`_throttled`) answer rate_limited
    before the password is even checked (so guessing gains nothing while throttled).

    Count, check and record run under a transaction-scoped advisory lock on the email:
    concurrent attempts on one account are serialised, so no burst of parallel guesses
    gets past the limit. `source` is the client address where the caller knows it (the
    Django admin's login form); the action worker does not, and leaves it blank.
    """
    email = email.lower()
    source = (source or "")[:100]
    throttled, user = False, None
    with transaction.atomic():
        _lock(email)
        if _throttled(email=email, source=source):
            throttled = True
        else:
            user = user_authenticate(email=email, password=password)
            if user is None:
                LoginFailure.objects.create(email=email, source=source)
            elif source:
                LoginFailure.objects.filter(email=email, source=source).delete()
            else:
                LoginFailure.objects.filter(email=email).delete()
    # Raised after the commit: the failure must count even though the sign-in fails.
    if throttled:
        raise _rate_limited("failed sign-ins")
    if user is None:
        raise TenancyError("unauthenticated", "Wrong email or password.")
    return user


def password_check_current(*, user: User, password: str, source: str = "") -> bool:
    """Whether `password` is `user`'s current one, counted like a sign-in: a wrong one is
    a failure on the email (and address), and past the limit the answer is rate_limited
    without checking (a stolen session or token cannot be used to guess the password)."""
    email = user.email.lower()
    source = (source or "")[:100]
    with transaction.atomic():
        _lock(email)
        if _throttled(email=email, source=source):
            ok, throttled = False, True
        else:
            ok, throttled = user.check_password(password), False
            if not ok:
                LoginFailure.objects.create(email=email, source=source)
    if throttled:
        raise _rate_limited("wrong passwords")
    return ok


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
    # User.save ends every token issued so far and spends the open reset links: the same
    # for every way a password changes (the admin's forms, `changepassword` included).
    user.save(update_fields=["password"])


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


def password_change(*, user_id: int, current_password: str, new_password: str) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise TenancyError("forbidden", "The current password is wrong.")
    # Counted (and committed) before the answer: a wrong guess must count though it fails.
    if not password_check_current(user=user, password=current_password):
        raise TenancyError("forbidden", "The current password is wrong.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _set_password(user, new_password)
    return user


def tokens_revoke_all(*, user_id: int) -> None:
    """Every token of the user issued before now stops working (auth.logout)."""
    User.objects.filter(pk=user_id).update(tokens_valid_after=timezone.now())
