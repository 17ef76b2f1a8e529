"""auth.*: sign-in and the account's own credentials."""

from actions.catalog._common import service_errors
from actions.payloads import Email, Empty, Payload, Result, Secret, TenantSlug
from actions.registry import MEMBERS, PUBLIC, action, non_atomic


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
@non_atomic  # a failed sign-in is counted (throttling) although the action fails
def auth_login(ctx, payload: LoginIn) -> LoginOut:
    from tenants.accounts import user_login
    from tenants.services import memberships_of
    from tenants.tokens import token_issue_pair

    with service_errors():
        user = user_login(email=payload.email, password=payload.password)
    return LoginOut(
        **token_issue_pair(user=user),
        user_id=user.pk,
        email=user.email,
        is_developer=user.is_developer,
        memberships=memberships_of(user=user),
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


@action(
    "auth.refresh",
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

    with service_errors():
        return Tokens(**token_refresh(payload.refresh_token))


@action(
    "auth.logout",
    channel="user",
    summary="Revoke the current token.",
    input=Empty,
    output=Accepted,
    roles=MEMBERS,
    state="under_dev",
)
def auth_logout(ctx, payload: Empty) -> Accepted:
    """Signs the account out everywhere: every token issued until now stops working
    (the worker does not see which token carried the request, only its account)."""
    from tenants.accounts import tokens_revoke_all

    tokens_revoke_all(user_id=ctx.actor.id)
    return Accepted()


@action(
    "auth.forgot",
    channel="user",
    summary="Email a single-use password reset token.",
    input=ForgotIn,
    output=Accepted,
    roles=PUBLIC,
    state="under_dev",
)
def auth_forgot(ctx, payload: ForgotIn) -> Accepted:
    from tenants.accounts import password_reset_request

    password_reset_request(email=payload.email)
    return Accepted()  # the same answer whether the address exists or not


@action(
    "auth.reset",
    channel="user",
    summary="Set a new password with a reset token.",
    input=ResetIn,
    output=Accepted,
    roles=PUBLIC,
    state="under_dev",
)
def auth_reset(ctx, payload: ResetIn) -> Accepted:
    from tenants.accounts import password_reset

    with service_errors():
        password_reset(token=payload.reset_token, new_password=payload.new_password)
    return Accepted()


@action(
    "auth.change_password",
    channel="user",
    summary="Change the password, given the current one.",
    input=ChangePasswordIn,
    output=Accepted,
    roles=MEMBERS,
    state="under_dev",
)
def auth_change_password(ctx, payload: ChangePasswordIn) -> Accepted:
    from tenants.accounts import password_change

    with service_errors():
        password_change(
            user_id=ctx.actor.id,
            current_password=payload.current_password,
            new_password=payload.new_password,
        )
    return Accepted()


@action(
    "auth.me",
    channel="user",
    summary="The signed-in user and memberships.",
    input=Empty,
    output=Me,
    roles=MEMBERS,
    state="under_dev",
)
def auth_me(ctx, payload: Empty) -> Me:
    from tenants.services import memberships_of, user_get

    with service_errors():
        user = user_get(user_id=ctx.actor.id)
    return Me(
        user_id=user.pk,
        email=user.email,
        name=user.name,
        is_developer=user.is_developer,
        memberships=memberships_of(user=user),
    )
