"""credentials.list: the tenant's credentials, without their secrets, filtered and paged."""

import json

import pytest

from tests.providers import add_credential
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_member_lists_the_tenants_credentials_without_values(api):
    t = make_tenant("credl")
    other = make_tenant("credl")
    add_credential(t, "sms_http", {"api_key": "sk-list-1"}, api)
    add_credential(t, "smtp", {"username": "u", "password": "pw-list-2"}, api)
    add_credential(other, "sms_http", {"api_key": "sk-other"}, api)
    body = send(api, "credentials.list", {}, tenant=t["slug"], user=t["member"])
    assert sorted(c["provider"] for c in body["result"]["items"]) == ["sms_http", "smtp"]
    assert "sk-list-1" not in json.dumps(body) and "pw-list-2" not in json.dumps(body)
    one = send(
        api,
        "credentials.list",
        {"provider": "smtp", "limit": 1},
        tenant=t["slug"],
        user=t["member"],
    )
    assert [c["provider"] for c in one["result"]["items"]] == ["smtp"]
    paged = send(api, "credentials.list", {"limit": 1}, tenant=t["slug"], user=t["member"])
    cursor = paged["result"]["page"]["next_cursor"]
    rest = send(
        api, "credentials.list", {"limit": 1, "cursor": cursor}, tenant=t["slug"], user=t["member"]
    )
    assert rest["result"]["items"][0]["id"] != paged["result"]["items"][0]["id"]
