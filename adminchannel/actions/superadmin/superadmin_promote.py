"""`superadmin.promote`: Promote yourself to super admin on this tenant, with a reason and an
expiry.
"""

from typing import Annotated

from pydantic import Field, StringConstraints

from actions.contract.payloads import FreeText, Payload
from actions.contract.registry import action
from adminchannel.actions.superadmin._models import Grant, _grant
from tenants.roles import Role


class Promote(Payload):
    """Promotes the calling developer to super admin on the envelope's tenant."""

    reason: Annotated[FreeText, StringConstraints(min_length=10, max_length=500)]
    expires_in_minutes: int = Field(default=60, ge=1, le=480)


@action(
    "superadmin.promote",
    channel="admin",
    roles=(Role.DEVELOPER.value,),  # promotion is for developers not yet promoted
    summary="Promote yourself to super admin on this tenant, with a reason and an expiry.",
    input=Promote,
    output=Grant,
    state="under_dev",
)
def superadmin_promote(ctx, payload: Promote) -> Grant:
    from tenants.services import superadmin_promote as promote

    grant = promote(
        developer=ctx.actor,
        tenant=ctx.tenant_obj,
        reason=payload.reason,
        minutes=payload.expires_in_minutes,
    )
    return _grant(grant)
