"""`credentials.create`: Store a credential for a provider in a workspace (encrypted)."""

from typing import Annotated

from pydantic import Field

from actions.catalog.credentials._models import Credential
from actions.contract.payloads import ObjectId, Payload, Secret, ShortText, Slug
from actions.contract.registry import action
from tenants.roles import MEMBERS

# The whole map is marked secret as well as each value: redaction needs no key knowledge.
SecretData = Annotated[
    dict[Slug, Secret], Field(min_length=1, max_length=50, json_schema_extra={"x-secret": True})
]


class CredentialCreate(Payload):
    workspace_id: ObjectId
    provider: Slug
    name: ShortText
    data: SecretData  # keys are the provider's field names


@action(
    "credentials.create",
    channel="user",
    roles=MEMBERS,
    summary="Store a credential for a provider in a workspace (encrypted).",
    input=CredentialCreate,
    output=Credential,
)
def credentials_create(ctx, payload: CredentialCreate) -> Credential:
    """`data` must fit the provider's fields (providers.list); it is sealed at once and
    never shown again: the answer names its fields only."""
    created = ctx.connectors.credential_create(
        workspace_id=payload.workspace_id,
        provider=payload.provider,
        name=payload.name,
        data=dict(payload.data),
    )
    return Credential.model_validate(created)
