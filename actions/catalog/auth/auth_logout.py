"""`auth.logout`: Sign out everywhere: every token issued so far stops working."""

from actions.catalog.auth._models import Accepted
from actions.contract.payloads import Empty
from actions.contract.registry import action
from tenants.roles import SIGNED_IN


@action(
    "auth.logout",
    scope="account",
    channel="user",
    summary="Sign out everywhere: every token issued so far stops working.",
    input=Empty,
    output=Accepted,
    roles=SIGNED_IN,
    state="under_dev",
)
def auth_logout(ctx, payload: Empty) -> Accepted:
    """Signs the account out everywhere: every token issued until now stops working
    (the worker does not see which token carried the request, only its account)."""
    from tenants.accounts import tokens_revoke_all

    tokens_revoke_all(user_id=ctx.actor.id)
    return Accepted()
