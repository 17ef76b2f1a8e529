"""tenants.invitations.accept: the invitee joins with the mailed token."""

import pytest
from django.core import mail

from tenants import services
from tenants.models import Membership
from tests.tenancy import actor, make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_new_address_accepts_and_becomes_a_member(api):
    t = make_tenant("acc")
    email = f"new.{t['slug']}@tenancy.test"
    mail.outbox.clear()
    services.member_invite(tenant=t["tenant"], email=email, name=None, by=actor(t["owner"]))
    token = mail.outbox[-1].body.split("\n\n")[1].strip()
    payload = {"token": token, "new_password": "an-invitees-password"}
    body = send(api, "tenants.invitations.accept", payload, tenant=t["slug"], user=None)
    assert body["status"] == "ok", body
    assert (body["result"]["email"], body["result"]["role"]) == (email, "member")
    assert Membership.objects.filter(tenant=t["tenant"], user__email=email).exists()
