"""Through the real gateway and workers: every action message of a tenant is a line in
its log, every admin-channel command an audit entry, and the log actions read them with
the right permissions."""

import json

import pytest

from audit.files import tenant_log_path
from tests.conftest import DEMO_PASSWORD, envelope
from tests.envelopes import query

pytestmark = pytest.mark.usefixtures("workers")


def tenant_lines(slug: str) -> dict[str, dict]:
    lines = tenant_log_path(slug).read_text().splitlines()
    return {entry["message_id"]: entry for entry in map(json.loads, lines)}


def test_a_finished_action_and_an_edge_refusal_are_lines_of_the_tenant_log(api, tokens):
    login = envelope("auth.login", {"email": "member@acme.test", "password": DEMO_PASSWORD})
    assert api(login).status_code == 200
    refused = envelope("leads.create", {"name": 42})  # validation_error, at the edge
    response = api(refused, token=tokens["member@acme.test"])
    assert response.json()["error"]["code"] == "validation_error"

    lines = tenant_lines("acme")
    done = lines[login["id"]]
    assert (done["action"], done["version"], done["status"]) == ("auth.login", 1, "ok")
    assert done["request"]["password"] == "[redacted]" and done["duration_ms"] >= 0
    assert done["response"]["access_token"] == "[redacted]"
    assert DEMO_PASSWORD not in tenant_log_path("acme").read_text()
    edge = lines[refused["id"]]
    assert (edge["status"], edge["code"], edge["actor"]) == (
        "error",
        "validation_error",
        "member@acme.test",
    )


def test_an_outsiders_refusals_stay_out_of_the_tenants_logs(api, tokens, audited):
    """A signed-in user of beta naming acme is refused; the refusal is in the central error
    log, not in acme's action log nor the admin audit log: else anyone signed in anywhere
    could fill them (one entry a message, the audit chain under one lock)."""
    for action, admin, code in (
        ("tenants.config.get", True, "forbidden"),
        ("leads.list", False, "forbidden"),
        ("no.such.action", True, "unknown_action"),  # refused before its access is read
        ("leads.list", True, "unknown_action"),  # the other channel's
        ("tenants.list", True, "validation_error"),  # a platform action sent to acme
    ):
        env = envelope(action, {"probe": "x" * 50})
        body = api(env, token=tokens["owner@beta.test"], admin=admin).json()
        assert body["error"]["code"] == code, body
        assert env["id"] not in tenant_lines("acme")
    assert audited == []
    # A member's own refusal is still the tenant's business.
    env = envelope("tenants.config.get", {})
    assert api(env, token=tokens["member@acme.test"], admin=True).json()["error"]["code"] == (
        "forbidden"
    )
    assert tenant_lines("acme")[env["id"]]["code"] == "forbidden"
    assert [entry["outcome"] for entry in audited] == ["refused"]


@pytest.mark.parametrize(
    ("who", "action", "tenant"),
    [
        ("member@acme.test", "logs.tenant.query", "acme"),  # not an owner
        ("owner@beta.test", "logs.tenant.query", "acme"),  # an owner of another tenant
        ("owner@beta.test", "audit.admin.query", "acme"),
        ("dev@switchboard.test", "logs.tenant.query", "acme"),  # a developer not promoted
        ("owner@acme.test", "logs.errors.query", "platform"),  # central log: developers only
    ],
)
def test_who_may_not_read_which_log(api, tokens, who, action, tenant):
    body = query(api, tokens, who, action, tenant=tenant)
    assert body["error"]["code"] == "forbidden", body


def test_a_signed_in_callers_refusal_on_the_platform_is_the_platforms_business(api, tokens):
    """Every account has a place on the platform: a user's refused account action (here a
    public one, sent with a token) is a line of the platform's log."""
    env = envelope("auth.login", {"email": 42, "password": "x"}, tenant="platform")
    body = api(env, token=tokens["owner@beta.test"]).json()
    assert body["error"]["code"] == "validation_error", body
    assert tenant_lines("platform")[env["id"]]["actor"] == "owner@beta.test"
