"""tenants.get: the tenant, for its owners."""

import pytest

from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_reads_the_tenant_and_a_member_may_not(api):
    t = make_tenant()
    body = send(api, "tenants.get", {}, tenant=t["slug"], user=t["owner"])
    assert body["status"] == "ok", body
    assert body["result"]["slug"] == t["slug"] and body["result"]["member_count"] == 3
    refused = send(api, "tenants.get", {}, tenant=t["slug"], user=t["member"])
    assert refused["error"]["code"] == "forbidden"
