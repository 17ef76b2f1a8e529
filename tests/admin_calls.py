"""Helpers for tests of the admin channel's actions: send one as a demo user, and make
some user-channel traffic to count."""

from tests.conftest import envelope
from tests.envelopes import assert_envelope

DEV = "dev@switchboard.test"
OWNER = "owner@acme.test"
MEMBER = "member@acme.test"


def admin(api, tokens, who, action, payload=None, tenant="platform"):
    """POST an admin-channel envelope as demo user `who`: (HTTP status, checked envelope)."""
    response = api(envelope(action, payload or {}, tenant=tenant), token=tokens[who], admin=True)
    return response.status_code, assert_envelope(response.json())


def cta(api, tokens, n=2):
    """`n` analytics.cta.record actions on acme, answered ok."""
    for _ in range(n):
        env = envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
        body = api(env, token=tokens[MEMBER]).json()
        assert body["status"] == "ok", body
