"""tenants.list: every tenant, for developers, on the platform."""

import pytest

from tests.tenancy import make_tenant, make_user, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_developer_finds_a_tenant_by_its_slug(api):
    t = make_tenant("ls")
    dev = make_user(f"dev.{t['slug']}@tenancy.test", developer=True)
    body = send(api, "tenants.list", {"search": t["slug"]}, tenant="platform", user=dev)
    assert body["status"] == "ok", body
    assert [item["slug"] for item in body["result"]["items"]] == [t["slug"]]
