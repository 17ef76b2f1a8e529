"""tenants.primary.transfer: one primary owner, always."""

import pytest

from tenants.models import Membership
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_the_primary_owner_hands_over_to_an_owner(api):
    t = make_tenant()
    slug, primary, owner = t["slug"], t["primary_owner"], t["owner"]
    body = send(api, "tenants.primary.transfer", {"email": owner.email}, tenant=slug, user=primary)
    assert body["status"] == "ok", body
    assert (body["result"]["previous"]["role"], body["result"]["current"]["role"]) == (
        "owner",
        "primary_owner",
    )
    roles = dict(Membership.objects.filter(tenant=t["tenant"]).values_list("user_id", "role"))
    assert list(roles.values()).count("primary_owner") == 1 and roles[owner.pk] == "primary_owner"
