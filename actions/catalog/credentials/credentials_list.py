"""`credentials.list`: List credentials (without their secrets)."""

from actions.catalog._common import ListResult
from actions.catalog.credentials._models import Credential
from actions.contract.payloads import ObjectId, Page, PageInfo, Slug
from actions.contract.registry import action
from tenants.roles import MEMBERS


class CredentialQuery(Page):
    workspace_id: ObjectId | None = None
    provider: Slug | None = None


class CredentialList(ListResult[Credential]):
    pass


@action(
    "credentials.list",
    channel="user",
    roles=MEMBERS,
    summary="List credentials (without their secrets).",
    input=CredentialQuery,
    output=CredentialList,
)
def credentials_list(ctx, payload: CredentialQuery) -> CredentialList:
    items, next_cursor = ctx.connectors.credentials(
        limit=payload.limit,
        cursor=payload.cursor,
        workspace_id=payload.workspace_id,
        provider=payload.provider,
    )
    return CredentialList(
        items=[Credential.model_validate(i) for i in items], page=PageInfo(next_cursor=next_cursor)
    )
