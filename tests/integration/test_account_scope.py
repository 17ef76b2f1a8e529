"""Account actions (auth.*, system.*) work for everyone signed in with tenant `platform`,
developers included; a sign-in names a tenant only its user belongs to; a tenant's
whitelabel messages replace the platform's user_message in its answers."""

import uuid

import pytest

from tenants.roles import MembershipRole
from tenants.services import membership_ensure, tenant_create, user_ensure
from tests.conftest import DEMO_PASSWORD, envelope
from tests.envelopes import assert_envelope

pytestmark = pytest.mark.usefixtures("workers")


def login(api, email, tenant, password=DEMO_PASSWORD):
    return api(envelope("auth.login", {"email": email, "password": password}, tenant=tenant))


def test_a_developer_signs_in_on_the_platform_and_manages_its_own_account(api):
    email = f"dev-{uuid.uuid4().hex[:8]}@switchboard.test"
    user_ensure(email=email, password=DEMO_PASSWORD, is_developer=True)
    signed_in = assert_envelope(login(api, email, "platform").json())
    assert signed_in["status"] == "ok", signed_in
    token = signed_in["result"]["access_token"]
    me = assert_envelope(api(envelope("auth.me", {}, tenant="platform"), token=token).json())
    assert me["status"] == "ok" and me["result"]["is_developer"] is True
    out = api(envelope("auth.logout", {}, tenant="platform"), token=token).json()
    assert out["status"] == "ok"
    again = api(envelope("auth.me", {}, tenant="platform"), token=token)
    assert again.json()["error"]["code"] == "unauthenticated"


def test_a_member_may_use_its_account_on_the_platform_too(api, tokens):
    me = api(envelope("auth.me", {}, tenant="platform"), token=tokens["member@acme.test"])
    assert me.json()["result"]["email"] == "member@acme.test"


def test_signing_in_through_a_tenant_one_does_not_belong_to_is_refused(api):
    response = login(api, "member@acme.test", "beta")
    assert response.status_code == 401
    assert assert_envelope(response.json())["error"]["code"] == "unauthenticated"
    assert login(api, "dev@switchboard.test", "acme").json()["error"]["code"] == ("unauthenticated")


def test_account_actions_on_another_tenant_are_forbidden(api, tokens):
    response = api(envelope("auth.me", {}, tenant="acme"), token=tokens["member@beta.test"])
    assert response.json()["error"]["code"] == "forbidden"


def whitelabelled_member(api, messages: dict) -> tuple[str, str]:
    """A new tenant with these whitelabel messages, and a signed-in member: (slug, token)."""
    slug = f"wl_{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(slug=slug, name="Whitelabel Ltd")
    tenant.config = {"messages": messages}
    tenant.save(update_fields=["config"])
    email = f"member-{slug.replace('_', '-')}@whitelabel.test"
    membership_ensure(
        user=user_ensure(email=email, password=DEMO_PASSWORD),
        tenant=tenant,
        role=MembershipRole.MEMBER,
    )
    return slug, login(api, email, slug).json()["result"]["access_token"]


def test_a_tenant_whitelabel_message_replaces_the_default_user_message(api):
    slug, token = whitelabelled_member(
        api, {"not_implemented": "Bientôt disponible chez Whitelabel."}
    )
    dummy = assert_envelope(api(envelope("leads.list", {}, tenant=slug), token=token).json())
    assert dummy["error"]["code"] == "not_implemented"
    assert dummy["error"]["user_message"] == "Bientôt disponible chez Whitelabel."
    # Another tenant keeps the platform's text.
    other = api(
        envelope("leads.list", {}, tenant="acme"),
        token=login(api, "member@acme.test", "acme").json()["result"]["access_token"],
    )
    assert other.json()["error"]["user_message"] == "This function is coming soon."


def test_a_password_change_ends_every_open_reset_link():
    import re

    from django.core import mail

    from tenants.accounts import password_change, password_reset, password_reset_request
    from tenants.errors import TenancyError

    email = f"reset-{uuid.uuid4().hex[:8]}@example.test"
    user = user_ensure(email=email, password=DEMO_PASSWORD)
    mail.outbox.clear()
    password_reset_request(email=email)
    password_reset_request(email=email)
    first, second = (re.search(r"\n\n(\S{40,})\n\n", m.body).group(1) for m in mail.outbox[-2:])
    password_reset(token=second, new_password="a-new-password-1")
    with pytest.raises(TenancyError):
        password_reset(token=first, new_password="another-password-2")
    password_reset_request(email=email)
    third = re.search(r"\n\n(\S{40,})\n\n", mail.outbox[-1].body).group(1)
    password_change(
        user_id=user.pk, current_password="a-new-password-1", new_password="a-third-password-3"
    )
    with pytest.raises(TenancyError):
        password_reset(token=third, new_password="another-password-2")


def test_a_members_refusal_speaks_the_tenants_words(api):
    slug, token = whitelabelled_member(
        api, {"forbidden": "Sorry, you can't do that (ask your admin)."}
    )
    refused = api(envelope("tenants.get", {}, tenant=slug), token=token, admin=True).json()
    assert refused["error"]["code"] == "forbidden"
    assert refused["error"]["user_message"] == "Sorry, you can't do that (ask your admin)."
