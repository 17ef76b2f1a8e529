"""providers.list: the providers a credential can be stored for, with their fields."""

import pytest

from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_member_sees_each_provider_with_which_fields_are_secret(api):
    t = make_tenant("prov")
    body = send(api, "providers.list", {}, tenant=t["slug"], user=t["member"])
    providers = {p["key"]: p for p in body["result"]["items"]}
    assert {"sms_http", "http_webhook", "smtp"} <= set(providers)
    smtp = {f["name"]: f["secret"] for f in providers["smtp"]["fields"]}
    assert smtp == {"username": False, "password": True}
    found = send(api, "providers.list", {"search": "smtp"}, tenant=t["slug"], user=t["member"])
    assert [p["key"] for p in found["result"]["items"]] == ["smtp"]
