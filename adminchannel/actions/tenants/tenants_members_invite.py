"""`tenants.members.invite`: Invite an email address to the tenant as a member (pending until
accepted).
"""

from datetime import datetime
from typing import Literal

from actions.contract.payloads import Email, ObjectId, Payload, Result, ShortText
from actions.contract.registry import action
from adminchannel.actions.tenants._models import _by
from tenants.roles import OWNERS


class MemberInvite(Payload):
    email: Email
    name: ShortText | None = None
    role: Literal["member"] = "member"  # owners are made with tenants.owners.delegate


class Invitation(Result):
    id: ObjectId
    email: Email
    role: Literal["member"]
    status: Literal["pending", "accepted", "expired"]
    invited_at: datetime
    expires_at: datetime | None


@action(
    "tenants.members.invite",
    channel="admin",
    roles=OWNERS,
    summary="Invite an email address to the tenant as a member (pending until accepted).",
    input=MemberInvite,
    output=Invitation,
    state="under_dev",
)
def tenants_members_invite(ctx, payload: MemberInvite) -> Invitation:
    from tenants import services

    invitation = services.member_invite(
        tenant=ctx.tenant_obj, email=payload.email, name=payload.name, **_by(ctx)
    )
    return Invitation(**invitation)
