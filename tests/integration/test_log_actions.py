"""Through the real gateway and workers: every action message of a tenant is a line in
its log, every admin-channel command an audit entry, and the log actions read them with
the right permissions."""

import json

import pytest

from audit.admin_log import audit_verify
from audit.files import tenant_log_path
from audit.models import AdminAuditEntry
from tests.conftest import DEMO_PASSWORD, envelope
from tests.envelopes import assert_envelope

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


def query(api, tokens, who, action, payload=None, tenant="acme"):
    response = api(envelope(action, payload or {}, tenant=tenant), token=tokens[who], admin=True)
    return assert_envelope(response.json())


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


def test_a_developer_reads_the_central_error_log(api, tokens, client):
    refused = client.post(
        "/api/v1/actions",
        data=json.dumps(envelope("leads.list", tenant="beta")),
        content_type="application/json",
    ).json()
    body = query(
        api,
        tokens,
        "dev@switchboard.test",
        "logs.errors.query",
        {"tenant": "beta", "code": "unauthenticated", "source": "api"},
        tenant="platform",
    )
    assert body["status"] == "ok", body["error"]
    traces = [item["trace_id"] for item in body["result"]["items"]]
    assert refused["meta"]["trace_id"] in traces
    assert all(item["tenant"] == "beta" for item in body["result"]["items"])


def test_admin_commands_are_audited_and_owners_read_only_their_tenant(api, tokens):
    body = query(api, tokens, "owner@acme.test", "logs.tenant.query", {"limit": 1})
    refused = query(api, tokens, "member@acme.test", "audit.admin.query")
    assert refused["error"]["code"] == "forbidden"

    acme = AdminAuditEntry.objects.filter(tenant="acme")
    assert acme.filter(message_id=body["id"], outcome="ok", actor="owner@acme.test").exists()
    assert acme.filter(message_id=refused["id"], outcome="refused", code="forbidden").exists()

    read = query(api, tokens, "owner@acme.test", "audit.admin.query", {"limit": 200})
    assert read["status"] == "ok", read
    items = read["result"]["items"]
    assert body["id"] in {item["request_id"] for item in items}
    assert [int(i["id"]) for i in items] == sorted((int(i["id"]) for i in items), reverse=True)
    beta_ids = set(AdminAuditEntry.objects.filter(tenant="beta").values_list("seq", flat=True))
    assert not beta_ids & {int(item["id"]) for item in items}
    assert audit_verify().ok
