"""`auth.refresh`: Exchange a refresh token for new tokens."""

from actions.catalog.auth._models import Tokens
from actions.contract.payloads import Payload, Secret
from actions.contract.registry import action, non_atomic
from tenants.roles import PUBLIC


class RefreshIn(Payload):
    refresh_token: Secret


@action(
    "auth.refresh",
    scope="account",
    channel="user",
    summary="Exchange a refresh token for new tokens.",
    input=RefreshIn,
    output=Tokens,
    roles=PUBLIC,
    state="under_dev",
)
@non_atomic  # a replayed refresh token revokes every session even though it fails
def auth_refresh(ctx, payload: RefreshIn) -> Tokens:
    from tenants.tokens import token_refresh

    return Tokens(**token_refresh(payload.refresh_token))
