"""tenants.owners.delegate: the primary owner makes a member an owner."""

import pytest

from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_the_primary_owner_delegates_and_a_secondary_owner_may_not(api):
    t = make_tenant()
    slug, member, primary = t["slug"], t["member"], t["primary_owner"]
    refused = send(
        api, "tenants.owners.delegate", {"email": member.email}, tenant=slug, user=t["owner"]
    )
    assert refused["error"]["code"] == "forbidden"
    body = send(api, "tenants.owners.delegate", {"email": member.email}, tenant=slug, user=primary)
    assert body["status"] == "ok", body
    assert body["result"]["role"] == "owner"
