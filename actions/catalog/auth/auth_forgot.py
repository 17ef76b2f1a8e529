"""`auth.forgot`: Email a single-use password reset token."""

from actions.catalog.auth._models import Accepted
from actions.contract.payloads import Email, Payload
from actions.contract.registry import action
from tenants.roles import PUBLIC


class ForgotIn(Payload):
    email: Email


@action(
    "auth.forgot",
    scope="account",
    channel="user",
    summary="Email a single-use password reset token.",
    input=ForgotIn,
    output=Accepted,
    roles=PUBLIC,
    state="under_dev",
)
def auth_forgot(ctx, payload: ForgotIn) -> Accepted:
    from tenants.tasks import password_reset_request_later

    # Queued for after the commit: nothing here depends on the account or the mail
    # server, so the answer and its timing are the same whether the address exists or not.
    password_reset_request_later(email=payload.email)
    return Accepted()
