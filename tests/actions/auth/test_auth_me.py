"""auth.me: the caller's own account."""

import pytest

from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_me_names_the_callers_memberships(api):
    t = make_tenant()
    body = send(api, "auth.me", {}, tenant=t["slug"], user=t["member"])
    assert body["status"] == "ok", body
    assert body["result"]["memberships"] == [{"tenant": t["slug"], "role": "member"}]
