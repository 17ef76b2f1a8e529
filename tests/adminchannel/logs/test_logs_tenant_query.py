"""logs.tenant.query: a tenant's action log, for its owners."""

import pytest

from tests.conftest import envelope
from tests.envelopes import query

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_reads_the_own_tenant_log_newest_first_a_page_at_a_time(api, tokens):
    sent = []
    for _ in range(3):
        env = envelope("leads.list", {})
        api(env, token=tokens["member@acme.test"])
        sent.append(env["id"])
    body = query(api, tokens, "owner@acme.test", "logs.tenant.query", {"action": "leads.list"})
    assert body["status"] == "ok", body["error"]
    ids = [item["request_id"] for item in body["result"]["items"]]
    assert ids[:3] == sent[::-1]  # newest first
    assert all(item["action"] == "leads.list" for item in body["result"]["items"])

    first = query(api, tokens, "owner@acme.test", "logs.tenant.query", {"limit": 1})
    cursor = first["result"]["page"]["next_cursor"]
    second = query(
        api, tokens, "owner@acme.test", "logs.tenant.query", {"limit": 1, "cursor": cursor}
    )
    assert first["result"]["items"][0]["request_id"] != second["result"]["items"][0]["request_id"]
    assert first["result"]["items"][0]["at"] >= second["result"]["items"][0]["at"]


def test_an_anonymous_actions_id_is_not_shown_to_the_owners(api, tokens):
    """The id is the key to an anonymous record (GET /api/v1/actions/<id> answers it, its
    result included: an auth.login's names the user's other tenants): owners see the line
    without it."""
    from tests.conftest import DEMO_PASSWORD

    env = envelope("auth.login", {"email": "member@acme.test", "password": DEMO_PASSWORD})
    assert api(env).json()["status"] == "ok"
    body = query(api, tokens, "owner@acme.test", "logs.tenant.query", {"action": "auth.login"})
    assert body["status"] == "ok", body["error"]
    items = body["result"]["items"]
    assert items and items[0]["actor"] is None
    assert all(item["request_id"] is None for item in items if item["actor"] is None)
    assert env["id"] not in str(body)
