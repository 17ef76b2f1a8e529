"""`tenants.owners.delegate`: Make a member of the tenant a (secondary) owner."""

from actions.catalog.tenants._models import Member
from actions.contract.registry import action
from adminchannel.actions.tenants._models import MemberEmail, _by
from tenants.roles import PRIMARY_OWNER


@action(
    "tenants.owners.delegate",
    channel="admin",
    roles=PRIMARY_OWNER,
    summary="Make a member of the tenant a (secondary) owner.",
    input=MemberEmail,
    output=Member,
    state="under_dev",
)
def tenants_owners_delegate(ctx, payload: MemberEmail) -> Member:
    from tenants import services

    membership = services.owner_delegate(tenant=ctx.tenant_obj, email=payload.email, **_by(ctx))
    return Member(**services.member_describe(membership))
