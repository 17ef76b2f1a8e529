"""`auth.login`: Exchange email and password for JWTs."""

from actions.catalog.auth._models import Membership, Tokens
from actions.contract.errors import ActionError, ErrorCode
from actions.contract.payloads import Email, Payload, Secret
from actions.contract.registry import action, non_atomic
from tenants.platform import PLATFORM
from tenants.roles import PUBLIC


class LoginIn(Payload):
    email: Email
    password: Secret


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
