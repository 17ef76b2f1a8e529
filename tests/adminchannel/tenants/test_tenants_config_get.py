"""tenants.config.get: the tenant's overrides, merged over the defaults."""

import pytest

from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_new_tenant_has_the_defaults(api):
    t = make_tenant()
    body = send(api, "tenants.config.get", {}, tenant=t["slug"], user=t["owner"])
    assert body["status"] == "ok", body
    assert body["result"]["version"] == 0 and body["result"]["overrides"] == {}
    assert body["result"]["effective"]["branding"]["brand_name"] == "Switchboard"
