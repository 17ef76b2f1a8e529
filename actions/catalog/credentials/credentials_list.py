"""`credentials.list`: List credentials (without their secrets)."""

from actions.catalog._common import ListResult
from actions.catalog.credentials._models import Credential
from actions.contract.payloads import ObjectId, Page, Slug
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class CredentialQuery(Page):
    workspace_id: ObjectId | None = None
    provider: Slug | None = None


class CredentialList(ListResult[Credential]):
    pass


dummy(  # TODO
    "credentials.list",
    channel="user",
    roles=MEMBERS,
    summary="List credentials (without their secrets).",
    input=CredentialQuery,
    output=CredentialList,
)
