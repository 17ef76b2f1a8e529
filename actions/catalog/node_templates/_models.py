"""Node templates: the catalog of building blocks flows are made of (user channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Literal

from actions.contract.payloads import FreeText, JsonObject, ObjectId, Result, ShortText, Slug

NodeType = Literal["trigger", "action", "condition", "transform", "wait", "merge"]


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
