"""`providers.list`: List the providers credentials can be stored for, with their fields."""

from typing import Literal

from pydantic import Field

from actions.catalog._common import ListResult
from actions.contract.payloads import FreeText, Page, PageInfo, Result, ShortText, Slug, Url
from actions.contract.registry import action
from tenants.roles import MEMBERS


class ProviderQuery(Page):
    search: ShortText | None = None


class ProviderField(Result):
    """One field of a credential for this provider: the keys of `credentials.create.data`."""

    name: Slug
    label: ShortText
    secret: bool
    required: bool


class Provider(Result):
    key: Slug
    name: ShortText
    description: FreeText | None
    auth_type: Literal["api_key", "oauth2", "basic", "token", "none"]
    fields: list[ProviderField] = Field(max_length=50)
    docs_url: Url | None


class ProviderList(ListResult[Provider]):
    pass


@action(
    "providers.list",
    channel="user",
    roles=MEMBERS,
    summary="List the providers credentials can be stored for, with their fields.",
    input=ProviderQuery,
    output=ProviderList,
)
def providers_list(ctx, payload: ProviderQuery) -> ProviderList:
    words = (payload.search or "").lower()
    found = [
        Provider.model_validate(p)
        for p in ctx.connectors.providers()
        if words in p["key"] or words in p["name"].lower()
    ]
    return ProviderList(items=found[: payload.limit], page=PageInfo())
