"""Connectors: the catalog of outside services and the tenant's subscriptions (admin channel)."""

from datetime import datetime

from pydantic import Field

from actions.catalog._common import MAX_ITEMS, ActionName, ListResult
from actions.contract.payloads import FreeText, Page, Payload, Result, ShortText, Slug
from actions.contract.registry import dummy
from tenants.roles import OWNERS


class ConnectorQuery(Page):
    subscribed: bool | None = None  # None: all connectors of the catalog


class Connector(Result):
    key: Slug
    name: ShortText
    description: FreeText | None
    actions: list[ActionName] = Field(max_length=MAX_ITEMS)  # actions that use it
    subscribed: bool
    subscribed_at: datetime | None


class ConnectorList(ListResult[Connector]):
    pass


class ConnectorRef(Payload):
    connector: Slug


dummy(  # TODO
    "connectors.list",
    channel="admin",
    roles=OWNERS,
    summary="List the connectors of the catalog, each with the tenant's subscription.",
    input=ConnectorQuery,
    output=ConnectorList,
)
dummy(  # TODO
    "connectors.subscribe",
    channel="admin",
    roles=OWNERS,
    summary="Subscribe the tenant to a connector.",
    input=ConnectorRef,
    output=Connector,
)
dummy(  # TODO
    "connectors.unsubscribe",
    channel="admin",
    roles=OWNERS,
    summary="End the tenant's subscription to a connector.",
    input=ConnectorRef,
    output=Connector,
)
