"""auth.*: sign-in and the account's own credentials.

Models shared by several actions of this domain."""

from typing import Annotated

from pydantic import Field, StringConstraints

from actions.contract.payloads import Result, TenantSlug

# The server's minimum (AUTH_PASSWORD_VALIDATORS: MinimumLengthValidator, 8), declared
# so that clients can check a new password before sending it.
NEW_PASSWORD_MIN_LENGTH = 8
NewPassword = Annotated[
    str,
    StringConstraints(min_length=NEW_PASSWORD_MIN_LENGTH, max_length=1024),
    Field(json_schema_extra={"x-secret": True}),
]


class Membership(Result):
    tenant: TenantSlug
    role: str


class Tokens(Result):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class Accepted(Result):
    accepted: bool = True
