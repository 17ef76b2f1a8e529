"""`tenants.config.get`: Read the tenant's config: its overrides and the effective config."""

from actions.contract.payloads import Empty
from actions.contract.registry import action
from adminchannel.actions.tenants._models import TenantConfig
from tenants.roles import OWNERS


@action(
    "tenants.config.get",
    channel="admin",
    roles=OWNERS,
    summary="Read the tenant's config: its overrides and the effective config.",
    input=Empty,
    output=TenantConfig,
    state="under_dev",
)
def tenants_config_get(ctx, payload: Empty) -> TenantConfig:
    from tenants import services

    return TenantConfig(**services.config_get(tenant=ctx.tenant_obj))
