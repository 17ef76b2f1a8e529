"""auth.*: sign-in and the account's own credentials."""

from actions.errors import ActionError, ErrorCode
from actions.payloads import Email, Empty, Payload, Result, Secret, TenantSlug
from actions.registry import MEMBERS, PUBLIC, action, dummy


class LoginIn(Payload):
    email: Email
    password: Secret


class Membership(Result):
    tenant: TenantSlug
    role: str


class Tokens(Result):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class LoginOut(Tokens):
    user_id: int
    email: str
    is_developer: bool
    memberships: list[Membership]


@action(
    "auth.login",
    channel="user",
    summary="Exchange email and password for JWTs.",
    input=LoginIn,
    output=LoginOut,
    roles=PUBLIC,
    state="released",
)
def auth_login(ctx, payload: LoginIn) -> LoginOut:
    from tenants.services import user_authenticate
    from tenants.tokens import token_issue_pair

    user = user_authenticate(email=payload.email, password=payload.password)
    if user is None:
        raise ActionError(ErrorCode.UNAUTHENTICATED, "Wrong email or password.")
    memberships = [
        Membership(tenant=m.tenant.schema_name, role=m.role)
        for m in user.memberships.select_related("tenant").order_by("tenant_id")
    ]
    return LoginOut(
        **token_issue_pair(user=user),
        user_id=user.pk,
        email=user.email,
        is_developer=user.is_developer,
        memberships=memberships,
    )


class RefreshIn(Payload):
    refresh_token: Secret


class ForgotIn(Payload):
    email: Email


class Accepted(Result):
    accepted: bool = True


class ResetIn(Payload):
    reset_token: Secret
    new_password: Secret


class ChangePasswordIn(Payload):
    current_password: Secret
    new_password: Secret


class Me(Result):
    user_id: int
    email: str
    name: str
    is_developer: bool
    memberships: list[Membership]


dummy(  # TODO
    "auth.refresh",
    channel="user",
    summary="Exchange a refresh token for new tokens.",
    input=RefreshIn,
    output=Tokens,
    roles=PUBLIC,
)
dummy(  # TODO
    "auth.logout",
    channel="user",
    summary="Revoke the current token.",
    input=Empty,
    output=Accepted,
    roles=MEMBERS,
)
dummy(  # TODO
    "auth.forgot",
    channel="user",
    summary="Email a single-use password reset token.",
    input=ForgotIn,
    output=Accepted,
    roles=PUBLIC,
)
dummy(  # TODO
    "auth.reset",
    channel="user",
    summary="Set a new password with a reset token.",
    input=ResetIn,
    output=Accepted,
    roles=PUBLIC,
)
dummy(  # TODO
    "auth.change_password",
    channel="user",
    summary="Change the password, given the current one.",
    input=ChangePasswordIn,
    output=Accepted,
    roles=MEMBERS,
)
dummy(  # TODO
    "auth.me",
    channel="user",
    summary="The signed-in user and memberships.",
    input=Empty,
    output=Me,
    roles=MEMBERS,
)
