"""Flows: graphs of nodes that runs execute, per workspace (user channel)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import ById, ListResult, omittable
from actions.contract.payloads import (
    Deleted,
    FreeText,
    JsonObject,
    ObjectId,
    Page,
    Payload,
    Result,
    ShortText,
)
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

# Production triggers (webhooks, events) fire only for a flow in production and enabled.
FlowStatus = Literal["draft", "test", "production"]


class FlowQuery(Page):
    workspace_id: ObjectId | None = None
    status: FlowStatus | None = None
    enabled: bool | None = None
    search: ShortText | None = None  # matches the title


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


class FlowList(ListResult[FlowSummary]):
    pass


class FlowCreate(Payload):
    workspace_id: ObjectId
    title: ShortText
    description: FreeText | None = None
    status: FlowStatus = "draft"
    enabled: bool = False


class FlowUpdate(Payload):
    """Fields left out are unchanged, nullable ones sent as null are cleared;
    `expected_version` refuses a lost update (`conflict`)."""

    id: ObjectId
    title: ShortText = omittable()
    description: FreeText | None = None
    status: FlowStatus = omittable()
    enabled: bool = omittable()
    graph: JsonObject = omittable()
    start_input: JsonObject | None = None
    expected_version: int | None = Field(default=None, ge=1)


dummy(  # TODO
    "flows.list",
    channel="user",
    roles=MEMBERS,
    summary="List flows (without their graphs).",
    input=FlowQuery,
    output=FlowList,
)
dummy(  # TODO
    "flows.create",
    channel="user",
    roles=MEMBERS,
    summary="Create a flow in a workspace, with an empty graph.",
    input=FlowCreate,
    output=Flow,
)
dummy(  # TODO
    "flows.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a flow with its graph.",
    input=ById,
    output=Flow,
)
dummy(  # TODO
    "flows.update",
    channel="user",
    roles=MEMBERS,
    summary="Change a flow: its graph, title, description, status or enabled flag.",
    input=FlowUpdate,
    output=Flow,
)
dummy(  # TODO
    "flows.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a flow.",
    input=ById,
    output=Deleted,
)
