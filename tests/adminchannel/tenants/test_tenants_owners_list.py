"""tenants.owners.list: the tenant's owners."""

import pytest

from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_lists_the_owners(api):
    t = make_tenant()
    body = send(api, "tenants.owners.list", {}, tenant=t["slug"], user=t["owner"])
    assert body["status"] == "ok", body
    assert {m["role"] for m in body["result"]["items"]} == {"owner", "primary_owner"}
