"""demo.reset through the real gateway and admin worker: the demo tenants' business data
is purged, their people and config are put back as seeded, and their users must sign in
again. Refused for a member, an owner, and for a tenant that is not part of the demo."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django_tenants.utils import schema_context

from actions.models import ActionRecord, CtaEvent
from tenants.models import Membership, Tenant, User
from tenants.services.demo import USERS
from tests.conftest import DEMO_PASSWORD, envelope
from tests.envelopes import assert_envelope
from tests.tenancy import make_user

pytestmark = pytest.mark.usefixtures("workers")

DEV = "dev@switchboard.test"
DEMO_EMAILS = [email for email, _, _ in USERS]


@pytest.fixture
def revive_demo_tokens():
    """The session's demo tokens die with the reset; the other tests still use them."""
    yield
    User.objects.filter(email__in=DEMO_EMAILS).update(tokens_valid_after=None)


def reset(api, tokens, who, payload):
    env = envelope("demo.reset", payload, tenant="platform")
    response = api(env, token=tokens[who], admin=True, wait=30)
    return response.status_code, assert_envelope(response.json())


@pytest.mark.parametrize("who", ["member@acme.test", "owner@acme.test"])
def test_only_a_developer_may_reset_the_demo(api, tokens, who):
    status, body = reset(api, tokens, who, {"confirm": "reset", "tenants": ["acme"]})
    assert (status, body["error"]["code"]) == (403, "forbidden")


def test_a_tenant_outside_the_demo_is_refused_and_nothing_is_touched(api, tokens):
    with schema_context("beta"):
        before = ActionRecord.objects.count()
    status, body = reset(api, tokens, DEV, {"confirm": "reset", "tenants": ["beta", "other"]})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert "other" in body["error"]["message"]
    with schema_context("beta"):
        assert ActionRecord.objects.count() >= before


def test_without_confirmation_nothing_happens(api, tokens):
    status, body = reset(api, tokens, DEV, {"tenants": ["acme"]})
    assert (status, body["error"]["code"]) == (400, "validation_error")


def test_reset_purges_reseeds_and_signs_the_demo_users_out(api, tokens, revive_demo_tokens):
    acme = Tenant.objects.get(schema_name="acme")
    # Business data and changes made during a demo.
    body = api(
        envelope("analytics.cta.record", {"surface": "web", "cta_id": "demo"}),
        token=tokens["member@acme.test"],
    ).json()
    assert body["status"] == "ok", body
    stranger = make_user("stranger.demo@tenancy.test")
    Membership.objects.get_or_create(user=stranger, tenant=acme, defaults={"role": "member"})
    Tenant.objects.filter(pk=acme.pk).update(config={"whitelabel": {"brand_name": "Changed"}})
    owner = User.objects.get(email="owner@acme.test")
    admin_session = SessionStore()
    admin_session["_auth_user_id"] = str(owner.pk)
    admin_session.create()
    beta_before = tokens["owner@beta.test"]

    status, body = reset(api, tokens, DEV, {"confirm": "reset", "tenants": ["acme"]})
    assert status == 200 and body["status"] == "ok", body
    [done] = body["result"]["tenants"]
    assert done["tenant"] == "acme" and done["purged"] >= 3 and done["seeded"] >= 2
    assert done["users_signed_out"] == 3  # the two seeded people and the stranger

    with schema_context("acme"):
        assert CtaEvent.objects.count() == 0 and ActionRecord.objects.count() == 0
    people = dict(Membership.objects.filter(tenant=acme).values_list("user__email", "role"))
    assert people == {"owner@acme.test": "primary_owner", "member@acme.test": "member"}
    acme.refresh_from_db()
    assert acme.config == {}
    assert not Session.objects.filter(session_key=admin_session.session_key).exists()

    # The old tokens are dead; signing in again works, with the demo password.
    dead = api(envelope("auth.me", {}, tenant="platform"), token=tokens["owner@acme.test"])
    assert dead.json()["error"]["code"] == "unauthenticated"
    login = envelope("auth.login", {"email": "owner@acme.test", "password": DEMO_PASSWORD})
    again = api(login).json()
    assert again["status"] == "ok", again
    me = api(envelope("auth.me", {}), token=again["result"]["access_token"]).json()
    assert me["status"] == "ok"
    # beta was not named: its users keep their sessions.
    alive = api(envelope("auth.me", {}, tenant="beta"), token=beta_before).json()
    assert alive["status"] == "ok"
