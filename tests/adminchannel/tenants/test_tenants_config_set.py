"""tenants.config.set."""

from tenants.models import Tenant, TenantConfigVersion
from tests.tenancy import code, make_tenant, ok, run_inline


def test_config_is_validated_versioned_and_merged(audited):
    t = make_tenant()
    slug, owner = t["slug"], t["owner"]
    start = ok(run_inline("tenants.config.get", {}, schema=slug, user=owner))
    assert start["version"] == 0 and start["overrides"] == {}
    assert start["effective"]["branding"]["brand_name"] == "Switchboard"
    overrides = {
        "branding": {"brand_name": "Acme Blue", "primary_colour": "#0000ff"},
        "messages": {"not_subscribed": "Ask your Acme admin to switch this on."},
    }
    done = ok(
        run_inline(
            "tenants.config.set",
            {"overrides": overrides, "expected_version": 0},
            schema=slug,
            user=owner,
        )
    )
    assert done["version"] == 1 and done["overrides"] == overrides
    assert done["effective"]["branding"]["brand_name"] == "Acme Blue"
    assert done["effective"]["branding"]["secondary_colour"] == "#0d1117"  # default kept
    stale = run_inline(
        "tenants.config.set",
        {"overrides": {}, "expected_version": 0},
        schema=slug,
        user=owner,
    )
    assert code(stale) == "conflict"
    bad = run_inline(
        "tenants.config.set",
        {"overrides": {"branding": {"brand_colour": "red", "primary_colour": 7}}},
        schema=slug,
        user=owner,
    )
    assert code(bad) == "validation_error"
    paths = {e["path"] for e in bad.error["details"]["errors"]}
    assert paths == {"config/branding", "config/branding/primary_colour"}
    history = TenantConfigVersion.objects.filter(tenant=t["tenant"]).order_by("version")
    assert [(v.version, v.changed_by_id) for v in history] == [(1, owner.pk)]
    assert Tenant.objects.get(pk=t["tenant"].pk).config_version == 1
    entry = next(
        e for e in audited if e["action"] == "tenants.config.set" and "keys" in e["payload_summary"]
    )
    assert entry["actor"] == owner.email and entry["as_super_admin"] is False
