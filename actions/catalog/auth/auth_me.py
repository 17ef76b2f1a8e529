"""`auth.me`: The signed-in user and memberships."""

from actions.catalog.auth._models import Membership
from actions.contract.payloads import Empty, Result
from actions.contract.registry import action
from tenants.roles import SIGNED_IN


class Me(Result):
    user_id: int
    email: str
    name: str
    is_developer: bool
    memberships: list[Membership]


@action(
    "auth.me",
    scope="account",
    channel="user",
    summary="The signed-in user and memberships.",
    input=Empty,
    output=Me,
    roles=SIGNED_IN,
    state="under_dev",
)
def auth_me(ctx, payload: Empty) -> Me:
    from tenants.services import memberships_of, user_get

    user = user_get(user_id=ctx.actor.id)
    return Me(
        user_id=user.pk,
        email=user.email,
        name=user.name,
        is_developer=user.is_developer,
        memberships=[Membership.model_validate(m) for m in memberships_of(user=user)],
    )
