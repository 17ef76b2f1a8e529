"""`superadmin.demote`: End your live super-admin grant on this tenant."""

from actions.contract.payloads import Empty
from actions.contract.registry import action
from adminchannel.actions.superadmin._models import Grant, _grant
from tenants.roles import DEVELOPERS


@action(
    "superadmin.demote",
    channel="admin",
    roles=DEVELOPERS,
    summary="End your live super-admin grant on this tenant.",
    input=Empty,
    output=Grant,
    state="under_dev",
)
def superadmin_demote(ctx, payload: Empty) -> Grant:
    from tenants.services import superadmin_demote as demote

    grant = demote(developer=ctx.actor, tenant=ctx.tenant_obj)
    return _grant(grant)
