"""Credentials: encrypted secrets for providers, per workspace; never sent back (user channel).

Models shared by several actions of this domain."""

from datetime import datetime

from pydantic import Field

from actions.contract.payloads import ObjectId, Result, ShortText, Slug


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
