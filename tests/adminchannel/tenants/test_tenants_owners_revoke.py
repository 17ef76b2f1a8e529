"""tenants.owners.revoke: the primary owner takes a secondary owner's rights back."""

import pytest

from tenants.models import Membership
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_the_primary_owner_revokes_a_secondary_owner(api):
    t = make_tenant()
    slug, owner = t["slug"], t["owner"]
    body = send(
        api, "tenants.owners.revoke", {"email": owner.email}, tenant=slug, user=t["primary_owner"]
    )
    assert body["status"] == "ok", body
    assert not Membership.objects.filter(tenant=t["tenant"], user=owner, role="owner").exists()
