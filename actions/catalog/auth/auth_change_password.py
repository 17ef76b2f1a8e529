"""`auth.change_password`: Change the password, given the current one."""

from actions.catalog.auth._models import Accepted, NewPassword
from actions.contract.payloads import Payload, Secret
from actions.contract.registry import action, non_atomic
from tenants.roles import SIGNED_IN


class ChangePasswordIn(Payload):
    current_password: Secret
    new_password: NewPassword


@action(
    "auth.change_password",
    scope="account",
    channel="user",
    summary="Change the password, given the current one.",
    input=ChangePasswordIn,
    output=Accepted,
    roles=SIGNED_IN,
    state="under_dev",
)
@non_atomic  # a wrong current password is counted (throttling) although the action fails
def auth_change_password(ctx, payload: ChangePasswordIn) -> Accepted:
    from tenants.accounts import password_change

    password_change(
        user_id=ctx.actor.id,
        current_password=payload.current_password,
        new_password=payload.new_password,
    )
    return Accepted()
