"""dashboard.summary: the tenant's activity, people and audit chain, for its owners."""

import pytest

from tests.admin_calls import MEMBER, OWNER, admin, cta

pytestmark = pytest.mark.usefixtures("workers")


def test_a_member_is_refused(api, tokens):
    status, body = admin(api, tokens, MEMBER, "dashboard.summary", tenant="acme")
    assert (status, body["status"], body["error"]["code"]) == (403, "error", "forbidden")


def test_dashboard_summary_counts_the_tenants_actions_people_and_chain(api, tokens):
    cta(api, tokens, 2)
    status, body = admin(api, tokens, OWNER, "dashboard.summary", tenant="acme")
    assert status == 200 and body["status"] == "ok", body
    summary = body["result"]
    assert summary["actions"]["ok"] >= 2
    top = {a["action"]: a["count"] for a in summary["top_actions"]}
    assert top["analytics.cta.record"] >= 2
    assert summary["members"] >= 2 and summary["owners"] >= 1
    assert summary["audit_chain"]["ok"] is True and summary["audit_chain"]["checked"] > 0
    # A window in the past has nothing in it.
    past = {"since": "2001-01-01T00:00:00Z", "until": "2001-01-02T00:00:00Z"}
    _, empty = admin(api, tokens, OWNER, "dashboard.summary", past, tenant="acme")
    assert empty["result"]["actions"] == {"ok": 0, "error": 0, "pending": 0}


def test_dashboard_summary_is_refused_on_a_tenant_the_owner_does_not_own(api, tokens):
    status, body = admin(api, tokens, OWNER, "dashboard.summary", tenant="beta")
    assert (status, body["error"]["code"]) == (403, "forbidden")
