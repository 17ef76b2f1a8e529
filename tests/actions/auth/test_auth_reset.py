"""auth.reset: a mailed single-use token sets a new password."""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.accounts import token_digest
from tenants.models import PasswordResetToken
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_reset_token_sets_the_password_once(api):
    t = make_tenant()
    user = t["member"]
    token = secrets.token_urlsafe(32)  # as auth.forgot mails it
    PasswordResetToken.objects.create(
        user=user, token_hash=token_digest(token), expires_at=timezone.now() + timedelta(hours=1)
    )
    payload = {"reset_token": token, "new_password": "a-reset-new-password"}
    body = send(api, "auth.reset", payload, tenant=t["slug"], user=None)
    assert body["status"] == "ok", body
    user.refresh_from_db()
    assert user.check_password("a-reset-new-password")
    again = send(api, "auth.reset", payload, tenant=t["slug"], user=None)
    assert again["error"]["code"] == "unauthenticated"
