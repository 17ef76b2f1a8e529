"""audit.admin.query: the admin audit log, for owners of their tenant."""

import pytest

from audit.admin_log import audit_verify
from audit.models import AdminAuditEntry
from tests.envelopes import query

pytestmark = pytest.mark.usefixtures("workers")


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
