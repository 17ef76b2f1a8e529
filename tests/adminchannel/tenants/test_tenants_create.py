"""tenants.create."""

from django.core import mail

from tenants import services
from tenants.models import Tenant
from tests.tenancy import code, make_user, ok, run_inline


def test_tenant_create_provisions_schema_owner_and_config(audited):
    dev = make_user("dev@switchboard.test", developer=True)
    slug = f"made_{Tenant.objects.count()}_{dev.pk}"
    mail.outbox.clear()
    created = ok(
        run_inline(
            "tenants.create",
            {
                "slug": slug,
                "name": "Made Here",
                "primary_owner_email": f"boss@{slug.replace('_', '-')}.test",
                "config": {"branding": {"brand_name": "Made"}},
            },
            schema="public",
            user=dev,
        )
    )
    assert created["primary_owner_email"] == f"boss@{slug.replace('_', '-')}.test"
    tenant = Tenant.objects.get(schema_name=slug)
    assert services.config_get(tenant=tenant)["effective"]["branding"]["brand_name"] == "Made"
    assert mail.outbox and "invited" in mail.outbox[-1].body
    again = run_inline(
        "tenants.create",
        {"slug": slug, "name": "Again", "primary_owner_email": "x@tenancy.test"},
        schema="public",
        user=dev,
    )
    assert code(again) == "conflict"
