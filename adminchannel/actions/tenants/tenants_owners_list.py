"""`tenants.owners.list`: List the owners of the tenant, primary owner included."""

from actions.catalog._common import ListResult
from actions.catalog.tenants._models import Member
from actions.contract.payloads import Page
from actions.contract.registry import action
from tenants.roles import OWNERS


class MemberList(ListResult[Member]):
    pass


@action(
    "tenants.owners.list",
    channel="admin",
    roles=OWNERS,
    summary="List the owners of the tenant, primary owner included.",
    input=Page,
    output=MemberList,
    state="under_dev",
)
def tenants_owners_list(ctx, payload: Page) -> MemberList:
    from tenants import services

    return MemberList(
        **services.owner_list(tenant=ctx.tenant_obj, limit=payload.limit, cursor=payload.cursor)
    )
