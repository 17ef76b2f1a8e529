"""Connectors: the catalog of outside services and the tenant's subscriptions (admin channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from actions.catalog._common import MAX_ITEMS, ActionName
from actions.contract.payloads import (
    FreeText,
    JsonObject,
    ObjectId,
    Payload,
    Result,
    ShortText,
    Slug,
)

# release.states.State, written out for the type checker (a unit test keeps them equal).
StateName = Literal[
    "dummy", "erroring", "under_dev", "potential_release", "under_user_test", "released", "reverted"
]


class Connector(Result):
    key: Slug
    version: int = Field(ge=1)
    name: ShortText
    description: FreeText | None
    state: StateName
    provider: Slug | None  # the provider whose credential it needs (providers.list)
    config_schema: JsonObject  # what connectors.subscribe's `config` must fit
    actions: list[ActionName] = Field(max_length=MAX_ITEMS)  # actions that use it
    subscribed: bool
    subscribed_at: datetime | None
    config: JsonObject | None  # the tenant's config (no secrets: credentials hold those)


class ConnectorRef(Payload):
    connector: Slug


class ConnectorTraceSummary(Result):
    id: ObjectId
    trace_id: ObjectId  # the action's trace id (its client and the central error log have it)
    action: ActionName
    message_id: ShortText
    connector: Slug
    connector_version: int
    outcome: Literal["ok", "error"]
    error: JsonObject | None  # {code, kind, message, retryable, status}
    attempts: int = Field(ge=0)
    started_at: datetime
    duration_ms: int = Field(ge=0)


def connector_result(entry: dict[str, Any]) -> Connector:
    return Connector.model_validate(entry)
