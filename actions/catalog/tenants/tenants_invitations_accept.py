"""`tenants.invitations.accept`: Accept an invitation to the tenant with the mailed token: become a
member.
"""

from actions.catalog.auth._models import NewPassword
from actions.catalog.tenants._models import Member
from actions.contract.payloads import Payload, Secret
from actions.contract.registry import action
from tenants.roles import PUBLIC


class InvitationAccept(Payload):
    """The token of the invitation mail; `new_password` when the address has no account
    yet (it is created with it). Sent without a credential, to the inviting tenant."""

    token: Secret
    new_password: NewPassword | None = None


@action(
    "tenants.invitations.accept",
    channel="user",
    roles=PUBLIC,
    summary="Accept an invitation to the tenant with the mailed token: become a member.",
    input=InvitationAccept,
    output=Member,
    state="under_dev",
)
def tenants_invitations_accept(ctx, payload: InvitationAccept) -> Member:
    from tenants import services

    membership = services.invitation_accept(
        tenant=ctx.tenant_obj, token=payload.token, new_password=payload.new_password
    )
    return Member(**services.member_describe(membership))
