"""connectors.list: the catalog with the tenant's subscription; owners only."""

import pytest

from tests.providers import subscribe
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_sees_every_connector_with_its_state_users_and_subscription(api):
    t = make_tenant("cxl")
    subscribe(t, "http_webhook", {"url": "https://hooks.example.com/in"}, api)
    body = send(api, "connectors.list", {}, tenant=t["slug"], user=t["owner"])
    entries = {c["key"]: c for c in body["result"]["items"]}
    assert set(entries) == {"http_webhook", "sms_http", "smtp_email"}
    assert entries["sms_http"]["actions"] == ["messages.send"]
    assert entries["sms_http"]["state"] == "under_dev" and not entries["sms_http"]["subscribed"]
    assert entries["http_webhook"]["subscribed"] and entries["http_webhook"]["subscribed_at"]
    only = send(api, "connectors.list", {"subscribed": True}, tenant=t["slug"], user=t["owner"])
    assert [c["key"] for c in only["result"]["items"]] == ["http_webhook"]
    member = send(api, "connectors.list", {}, tenant=t["slug"], user=t["member"])
    assert member["error"]["code"] == "forbidden"
