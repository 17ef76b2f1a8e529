"""Credentials: encrypted secrets for providers, per workspace; never sent back (user channel).

Models shared by several actions of this domain."""

from datetime import datetime

from pydantic import Field

from actions.catalog._common import InWorkspace
from actions.contract.errors import ActionError, ErrorCode
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


def credential_in_workspace(ctx, payload: InWorkspace) -> dict:
    """The credential `payload.id` names; `not_found` when the payload names a workspace
    (a resource route's path does) and the credential is not in it."""
    found = ctx.connectors.credential(payload.id)
    if payload.workspace_id is not None and found.get("workspace_id") != payload.workspace_id:
        raise ActionError(ErrorCode.NOT_FOUND, "No such credential in this workspace.")
    return found
