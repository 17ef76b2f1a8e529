"""`tenants.create`: Create a tenant (its schema) and invite its primary owner."""

from actions.contract.payloads import Email, JsonObject, Payload, ShortText, TenantSlug
from actions.contract.registry import action
from adminchannel.actions.tenants._models import Tenant, _by
from tenants.roles import DEVELOPERS


class TenantCreate(Payload):
    slug: TenantSlug
    name: ShortText
    primary_owner_email: Email
    config: JsonObject | None = None  # overrides, validated against the tenant config schema


@action(
    "tenants.create",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Create a tenant (its schema) and invite its primary owner.",
    input=TenantCreate,
    output=Tenant,
    timeout_s=120,
    state="under_dev",
)
def tenants_create(ctx, payload: TenantCreate) -> Tenant:
    from tenants import services

    tenant = services.tenant_provision(
        slug=payload.slug,
        name=payload.name,
        primary_owner_email=payload.primary_owner_email,
        config=payload.config,
        **_by(ctx),
    )
    return Tenant(**services.tenant_describe(tenant=tenant))
