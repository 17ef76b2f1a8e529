"""`tenants.get`: Describe the current tenant."""

from actions.contract.payloads import Empty
from actions.contract.registry import action
from adminchannel.actions.tenants._models import Tenant
from tenants.roles import OWNERS


@action(
    "tenants.get",
    channel="admin",
    roles=OWNERS,
    summary="Describe the current tenant.",
    input=Empty,
    output=Tenant,
    state="under_dev",
)
def tenants_get(ctx, payload: Empty) -> Tenant:
    from tenants import services

    return Tenant(**services.tenant_describe(tenant=ctx.tenant_obj))
