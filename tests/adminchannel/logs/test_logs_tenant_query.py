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
