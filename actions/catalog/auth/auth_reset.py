"""`auth.reset`: Set a new password with a reset token."""

from actions.catalog.auth._models import Accepted, NewPassword
from actions.contract.payloads import Payload, Secret
from actions.contract.registry import action
from tenants.roles import PUBLIC


class ResetIn(Payload):
    reset_token: Secret
    new_password: NewPassword


@action(
    "auth.reset",
    scope="account",
    channel="user",
    summary="Set a new password with a reset token.",
    input=ResetIn,
    output=Accepted,
    roles=PUBLIC,
    state="under_dev",
)
def auth_reset(ctx, payload: ResetIn) -> Accepted:
    from tenants.accounts import password_reset

    password_reset(token=payload.reset_token, new_password=payload.new_password)
    return Accepted()
