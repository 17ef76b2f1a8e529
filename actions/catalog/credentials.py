"""Credentials: encrypted secrets for providers, per workspace; never sent back (user channel)."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from actions.catalog._common import ById, ListResult
from actions.contract.payloads import (
    Deleted,
    ObjectId,
    Page,
    Payload,
    Result,
    Secret,
    ShortText,
    Slug,
)
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

# The whole map is marked secret as well as each value: redaction needs no key knowledge.
SecretData = Annotated[
    dict[Slug, Secret], Field(min_length=1, max_length=50, json_schema_extra={"x-secret": True})
]


class CredentialQuery(Page):
    workspace_id: ObjectId | None = None
    provider: Slug | None = None


class Credential(Result):
    """A credential as shown: the names of its fields, never their values."""

    id: ObjectId
    workspace_id: ObjectId
    provider: Slug
    name: ShortText
    fields: list[Slug] = Field(max_length=50)
    valid: bool | None  # None: not checked yet
    checked_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CredentialList(ListResult[Credential]):
    pass


class CredentialCreate(Payload):
    workspace_id: ObjectId
    provider: Slug
    name: ShortText
    data: SecretData  # keys are the provider's field names


dummy(  # TODO
    "credentials.list",
    channel="user",
    roles=MEMBERS,
    summary="List credentials (without their secrets).",
    input=CredentialQuery,
    output=CredentialList,
)
dummy(  # TODO
    "credentials.create",
    channel="user",
    roles=MEMBERS,
    summary="Store a credential for a provider in a workspace (encrypted).",
    input=CredentialCreate,
    output=Credential,
)
dummy(  # TODO
    "credentials.get",
    channel="user",
    roles=MEMBERS,
    summary="Describe a credential (without its secrets).",
    input=ById,
    output=Credential,
)
dummy(  # TODO
    "credentials.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a credential.",
    input=ById,
    output=Deleted,
)
