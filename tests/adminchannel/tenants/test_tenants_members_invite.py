"""tenants.members.invite: a pending invitation, nobody added without consent."""

import pytest

from tenants.models import Invitation, Membership
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_invites_an_address_which_stays_pending(api):
    t = make_tenant("inv")
    email = f"new.{t['slug']}@tenancy.test"
    body = send(api, "tenants.members.invite", {"email": email}, tenant=t["slug"], user=t["owner"])
    assert body["status"] == "ok", body
    assert (body["result"]["status"], body["result"]["role"]) == ("pending", "member")
    assert Invitation.objects.filter(tenant=t["tenant"], email=email).exists()
    assert not Membership.objects.filter(tenant=t["tenant"], user__email=email).exists()
