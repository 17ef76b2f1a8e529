"""The Django admin site is scoped: owners see their tenants, members cannot enter."""

from django.test import Client

from tests.tenancy import make_tenant, make_user


def test_owner_sees_only_their_tenant_and_a_member_cannot_enter():
    mine, other = make_tenant("adm"), make_tenant("adm")
    owner = Client()
    owner.force_login(mine["owner"])
    listing = owner.get("/admin/tenants/tenant/")
    assert listing.status_code == 200
    assert mine["slug"] in listing.content.decode()
    assert other["slug"] not in listing.content.decode()
    assert owner.get(f"/admin/tenants/tenant/{other['tenant'].pk}/change/").status_code in (
        302,
        403,
        404,
    )
    member = Client()
    member.force_login(mine["member"])
    assert member.get("/admin/").status_code == 302  # to the login page
    developer = Client()
    developer.force_login(make_user(f"dev.{mine['slug']}@tenancy.test", developer=True))
    assert developer.get("/admin/").status_code == 302  # not promoted: no entry


def test_owner_sees_the_tenants_config_effective_and_overrides_and_its_subscriptions():
    from tenants.models import Tenant

    mine = make_tenant("adm")
    Tenant.objects.filter(pk=mine["tenant"].pk).update(
        config={"branding": {"brand_name": "Mine Ltd"}}
    )
    owner = Client()
    owner.force_login(mine["owner"])
    page = owner.get(f"/admin/tenants/tenant/{mine['tenant'].pk}/change/")
    assert page.status_code == 200
    html = page.content.decode().lower()
    assert "config overrides (what the tenant set)" in html
    assert "effective config (overrides merged over the defaults)" in html
    assert "connector subscriptions" in html
    assert html.count("mine ltd") >= 2  # in the overrides and in the effective config
    assert "rate_limits" in html  # a default, only in the effective config
