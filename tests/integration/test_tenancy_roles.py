"""The role matrix: every persona x every admin-channel action. A refusal is `forbidden`
(anonymous callers included) and changes nothing; an allowed persona gets
past authorisation (shown by reaching payload validation, which runs after it)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from actions.contract.registry import Channel, Scope, registry
from actions.models import ActionRecord
from tenants import services
from tenants.models import Membership, SuperAdminGrant, Tenant, User
from tests.tenancy import actor, make_tenant, make_user, submit, unique

PERSONAS = ("anonymous", "member", "owner", "primary_owner", "developer", "super_admin",
            "expired_super_admin")  # fmt: skip
# The roles each persona holds on the matrix tenant, and on the platform.
ON_TENANT = {
    "anonymous": {"anonymous"},
    "member": {"member"},
    "owner": {"member", "owner"},
    "primary_owner": {"member", "owner", "primary_owner"},
    "developer": {"developer"},
    "super_admin": {"developer", "super_admin"},
    "expired_super_admin": {"developer"},
}
ON_PLATFORM = {p: {"developer"} if "developer" in r else set() for p, r in ON_TENANT.items()}
ADMIN_ACTIONS = [s for s in registry.all() if s.channel == Channel.ADMIN]


@pytest.fixture(scope="module")
def world(django_db_blocker):
    with django_db_blocker.unblock():
        t = make_tenant("matrix")
        people = {
            "anonymous": None,
            "member": t["member"],
            "owner": t["owner"],
            "primary_owner": t["primary_owner"],
            "developer": make_user(f"dev.{t['slug']}@tenancy.test", developer=True),
            "super_admin": make_user(f"sa.{t['slug']}@tenancy.test", developer=True),
            "expired_super_admin": make_user(f"old.{t['slug']}@tenancy.test", developer=True),
        }
        services.superadmin_promote(
            developer=actor(people["super_admin"]), tenant=t["tenant"], reason="matrix test run"
        )
        past = timezone.now() - timedelta(hours=2)
        SuperAdminGrant.objects.create(
            user=people["expired_super_admin"],
            tenant=t["tenant"],
            reason="matrix test: expired",
            granted_at=past,
            expires_at=past + timedelta(minutes=60),
        )
        return {**t, "people": people}


def valid_payload(name: str, world: dict) -> dict:
    """A payload that would pass validation, so a refusal cannot come from validation."""
    return {
        "tenants.create": {
            "slug": unique("x"),
            "name": "Nope",
            "primary_owner_email": "nope@tenancy.test",
        },
        "tenants.config.set": {"overrides": {"branding": {"brand_name": "Hijacked"}}},
        "tenants.owners.delegate": {"email": world["member"].email},
        "tenants.owners.revoke": {"email": world["owner"].email},
        "tenants.primary.transfer": {"email": world["owner"].email},
        "tenants.members.invite": {"email": "intruder@tenancy.test"},
        "tenants.members.remove": {"email": world["member"].email},
        "superadmin.promote": {"reason": "I should not be able to do this"},
    }.get(name, {})


def snapshot(world: dict) -> tuple:
    tenant = Tenant.objects.get(pk=world["tenant"].pk)
    with schema_context(world["slug"]):
        tenant_records = ActionRecord.objects.count()
    with schema_context("public"):
        platform_records = ActionRecord.objects.count()
    return (
        sorted(Membership.objects.filter(tenant=tenant).values_list("user_id", "role")),
        tenant.name,
        tenant.config,
        tenant.config_version,
        SuperAdminGrant.objects.filter(tenant=tenant).count(),
        Tenant.objects.count(),
        User.objects.count(),
        tenant_records,
        platform_records,
    )


def test_personas_hold_the_roles_the_matrix_assumes(world):
    for persona, user in world["people"].items():
        held = services.roles_for(actor=user and actor(user), tenant=world["tenant"])
        assert held - {"anonymous"} == ON_TENANT[persona] - {"anonymous"}, persona


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("spec", ADMIN_ACTIONS, ids=lambda s: s.name)
def test_admin_action_role_matrix(world, spec, persona):
    platform = spec.scope == Scope.PLATFORM
    held = (ON_PLATFORM if platform else ON_TENANT)[persona]
    allowed = bool(held & set(spec.roles)) or "anonymous" in spec.roles
    user = world["people"][persona]
    tenant = "platform" if platform else world["slug"]
    if allowed:
        # An unknown key: validation refuses it, and validation runs after authorisation.
        outcome = submit(spec.name, {"zz_unknown": 1}, tenant=tenant, user=user, admin=True)
        assert outcome.envelope["error"]["code"] == "validation_error", outcome.envelope
        return
    before = snapshot(world)
    outcome = submit(
        spec.name, valid_payload(spec.name, world), tenant=tenant, user=user, admin=True
    )
    assert outcome.envelope["error"]["code"] == "forbidden", (persona, outcome.envelope)
    assert outcome.record is None
    assert snapshot(world) == before


def test_the_expected_refusals_are_there(world):
    """Pins the matrix's shape so that a widened role list shows up in review."""
    spec = registry.get("tenants.owners.delegate")
    assert set(spec.roles) == {"primary_owner", "super_admin"}
    assert set(registry.get("tenants.config.set").roles) == {
        "owner",
        "primary_owner",
        "super_admin",
    }
    assert set(registry.get("tenants.create").roles) == {"developer", "super_admin"}
