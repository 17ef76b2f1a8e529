"""`tenants.list`: List the tenants of the platform."""

from actions.catalog._common import ListResult
from actions.contract.payloads import Page, ShortText
from actions.contract.registry import action
from adminchannel.actions.tenants._models import Tenant
from tenants.roles import DEVELOPERS


class TenantQuery(Page):
    search: ShortText | None = None  # matches slug or name


class TenantList(ListResult[Tenant]):
    pass


@action(
    "tenants.list",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="List the tenants of the platform.",
    input=TenantQuery,
    output=TenantList,
    state="under_dev",
)
def tenants_list(ctx, payload: TenantQuery) -> TenantList:
    from tenants import services

    return TenantList(
        **services.tenant_list(search=payload.search, limit=payload.limit, cursor=payload.cursor)
    )
