"""Node templates: the catalog of building blocks flows are made of (user channel)."""

from datetime import datetime
from typing import Literal

from actions.catalog._common import ListResult
from actions.contract.payloads import (
    FreeText,
    JsonObject,
    ObjectId,
    Page,
    Payload,
    Result,
    ShortText,
    Slug,
)
from actions.contract.registry import dummy
from tenants.roles import MEMBERS, OWNERS

NodeType = Literal["trigger", "action", "condition", "transform", "wait", "merge"]


class NodeTemplateQuery(Page):
    provider: Slug | None = None
    type: NodeType | None = None


class NodeTemplate(Result):
    id: ObjectId
    key: Slug
    provider: Slug | None  # None: a built-in node
    type: NodeType
    name: ShortText
    description: FreeText | None
    args_schema: JsonObject  # JSON Schema of the node's arguments
    allow_without_credentials: bool
    created_at: datetime


class NodeTemplateList(ListResult[NodeTemplate]):
    pass


class NodeTemplateCreate(Payload):
    key: Slug
    provider: Slug | None = None
    type: NodeType
    name: ShortText
    description: FreeText | None = None
    args_schema: JsonObject
    allow_without_credentials: bool = False


dummy(  # TODO
    "node_templates.list",
    channel="user",
    roles=MEMBERS,
    summary="List the node templates flows can use.",
    input=NodeTemplateQuery,
    output=NodeTemplateList,
)
dummy(  # TODO
    "node_templates.create",
    channel="user",
    roles=OWNERS,
    summary="Add a node template to the tenant's catalog.",
    input=NodeTemplateCreate,
    output=NodeTemplate,
)
