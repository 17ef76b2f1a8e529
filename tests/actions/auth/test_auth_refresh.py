"""auth.refresh: a refresh token for a new pair, once."""

import pytest

from tenants.tokens import token_issue_pair
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_refresh_rotates_and_a_used_refresh_token_is_dead(api):
    t = make_tenant()
    pair = token_issue_pair(user=t["member"])
    payload = {"refresh_token": pair["refresh_token"]}
    body = send(api, "auth.refresh", payload, tenant=t["slug"], user=None)
    assert body["status"] == "ok", body
    assert body["result"]["access_token"] != pair["access_token"]
    again = send(api, "auth.refresh", payload, tenant=t["slug"], user=None)
    assert again["error"]["code"] == "unauthenticated"
