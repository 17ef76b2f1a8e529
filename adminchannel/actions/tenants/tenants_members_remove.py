"""`tenants.members.remove`: Remove a member from the tenant (not an owner: revoke first)."""

from actions.contract.payloads import Deleted
from actions.contract.registry import action
from adminchannel.actions.tenants._models import MemberEmail, _by
from tenants.roles import OWNERS


@action(
    "tenants.members.remove",
    channel="admin",
    roles=OWNERS,
    summary="Remove a member from the tenant (not an owner: revoke first).",
    input=MemberEmail,
    output=Deleted,
    state="under_dev",
)
def tenants_members_remove(ctx, payload: MemberEmail) -> Deleted:
    from tenants import services

    removed = services.member_remove(tenant=ctx.tenant_obj, email=payload.email, **_by(ctx))
    return Deleted(id=removed)
