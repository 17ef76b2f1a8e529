"""superadmin.promote: a developer becomes super admin of a tenant for a while."""

import pytest

from tests.tenancy import make_tenant, make_user, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_developer_is_promoted_with_a_reason_and_an_expiry(api):
    t = make_tenant("sa")
    dev = make_user(f"dev.{t['slug']}@tenancy.test", developer=True)
    assert send(api, "tenants.get", {}, tenant=t["slug"], user=dev)["error"]["code"] == "forbidden"
    payload = {"reason": "customer ticket 4711", "expires_in_minutes": 30}
    body = send(api, "superadmin.promote", payload, tenant=t["slug"], user=dev)
    assert body["status"] == "ok", body
    assert body["result"]["ended_at"] is None
    assert send(api, "tenants.get", {}, tenant=t["slug"], user=dev)["status"] == "ok"
