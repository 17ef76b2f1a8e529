"""auth.*: sign-in and the account's own credentials."""

from typing import Annotated

from pydantic import Field, StringConstraints

from actions.contract.errors import ActionError, ErrorCode
from actions.contract.payloads import Email, Empty, Payload, Result, Secret, TenantSlug
from actions.contract.registry import action, non_atomic
from tenants.platform import PLATFORM
from tenants.roles import PUBLIC, SIGNED_IN

# The server's minimum (AUTH_PASSWORD_VALIDATORS: MinimumLengthValidator, 8), declared
# so that clients can check a new password before sending it.
NEW_PASSWORD_MIN_LENGTH = 8
NewPassword = Annotated[
    str,
    StringConstraints(min_length=NEW_PASSWORD_MIN_LENGTH, max_length=1024),
    Field(json_schema_extra={"x-secret": True}),
]


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
    scope="account",
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

    user = user_login(email=payload.email, password=payload.password)
    memberships = memberships_of(user=user)
    if ctx.tenant != PLATFORM and ctx.tenant not in {m["tenant"] for m in memberships}:
        # Signing in "through" a tenant one does not belong to would put one's sign-in in
        # that tenant's records and logs. Same answer as a wrong password: no probing.
        raise ActionError(ErrorCode.UNAUTHENTICATED, "Wrong email or password.")
    return LoginOut(
        **token_issue_pair(user=user),
        user_id=user.pk,
        email=user.email,
        is_developer=user.is_developer,
        memberships=[Membership.model_validate(m) for m in memberships],
    )


class RefreshIn(Payload):
    refresh_token: Secret


class ForgotIn(Payload):
    email: Email


class Accepted(Result):
    accepted: bool = True


class ResetIn(Payload):
    reset_token: Secret
    new_password: NewPassword


class ChangePasswordIn(Payload):
    current_password: Secret
    new_password: NewPassword


class Me(Result):
    user_id: int
    email: str
    name: str
    is_developer: bool
    memberships: list[Membership]


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
