"""tenants.members.remove: an owner removes a member, never an owner."""

import pytest

from tenants.models import Membership
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_removes_a_member_but_not_an_owner(api):
    t = make_tenant()
    slug, owner, member = t["slug"], t["owner"], t["member"]
    body = send(api, "tenants.members.remove", {"email": member.email}, tenant=slug, user=owner)
    assert body["status"] == "ok", body
    assert body["result"]["deleted"] is True
    assert not Membership.objects.filter(tenant=t["tenant"], user=member).exists()
    other = t["primary_owner"].email
    refused = send(api, "tenants.members.remove", {"email": other}, tenant=slug, user=owner)
    assert refused["error"]["code"] == "conflict"
