"""`tenants.primary.transfer`: Hand the primary ownership to an existing owner."""

from actions.catalog.tenants._models import Member
from actions.contract.payloads import Result
from actions.contract.registry import action
from adminchannel.actions.tenants._models import MemberEmail, _by
from tenants.roles import PRIMARY_OWNER


class PrimaryTransfer(Result):
    previous: Member  # now a (secondary) owner
    current: Member  # the new primary owner


@action(
    "tenants.primary.transfer",
    channel="admin",
    roles=PRIMARY_OWNER,
    summary="Hand the primary ownership to an existing owner.",
    input=MemberEmail,
    output=PrimaryTransfer,
    state="under_dev",
)
def tenants_primary_transfer(ctx, payload: MemberEmail) -> PrimaryTransfer:
    from tenants import services

    previous, current = services.primary_transfer(
        tenant=ctx.tenant_obj, email=payload.email, **_by(ctx)
    )
    return PrimaryTransfer(
        previous=Member(**services.member_describe(previous)),
        current=Member(**services.member_describe(current)),
    )
