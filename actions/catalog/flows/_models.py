"""Flows: graphs of nodes that runs execute, per workspace (user channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.contract.payloads import FreeText, JsonObject, ObjectId, Result, ShortText

# Production triggers (webhooks, events) fire only for a flow in production and enabled.
FlowStatus = Literal["draft", "test", "production"]


class FlowSummary(Result):
    id: ObjectId
    workspace_id: ObjectId
    title: ShortText
    description: FreeText | None
    status: FlowStatus
    enabled: bool
    version: int = Field(ge=1)  # bumped on every update
    created_at: datetime
    updated_at: datetime


class Flow(FlowSummary):
    graph: JsonObject  # nodes and edges, as the editor saves them
    start_input: JsonObject | None  # default input of a test run, kept as given
