"""superadmin.demote: the developer's grant on the tenant ends."""

import pytest

from tests.tenancy import make_tenant, make_user, send

pytestmark = pytest.mark.usefixtures("workers")


def test_demote_ends_the_grant(api):
    t = make_tenant("sa")
    dev = make_user(f"dev.{t['slug']}@tenancy.test", developer=True)
    promoted = send(
        api, "superadmin.promote", {"reason": "customer ticket 12"}, tenant=t["slug"], user=dev
    )
    assert promoted["status"] == "ok", promoted
    body = send(api, "superadmin.demote", {}, tenant=t["slug"], user=dev)
    assert body["status"] == "ok", body
    assert body["result"]["ended_at"] is not None
    assert send(api, "tenants.get", {}, tenant=t["slug"], user=dev)["error"]["code"] == "forbidden"
