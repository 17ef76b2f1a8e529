"""Connectors: the catalog of outside services and the tenant's subscriptions (admin channel).

Models shared by several actions of this domain."""

from datetime import datetime

from pydantic import Field

from actions.catalog._common import MAX_ITEMS, ActionName
from actions.contract.payloads import FreeText, Payload, Result, ShortText, Slug


class Connector(Result):
    key: Slug
    name: ShortText
    description: FreeText | None
    actions: list[ActionName] = Field(max_length=MAX_ITEMS)  # actions that use it
    subscribed: bool
    subscribed_at: datetime | None


class ConnectorRef(Payload):
    connector: Slug
