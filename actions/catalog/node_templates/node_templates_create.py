"""`node_templates.create`: Add a node template to the tenant's catalog."""

from actions.catalog.node_templates._models import NodeTemplate, NodeType
from actions.contract.payloads import FreeText, JsonObject, Payload, ShortText, Slug
from actions.contract.registry import dummy
from tenants.roles import OWNERS


class NodeTemplateCreate(Payload):
    key: Slug
    provider: Slug | None = None
    type: NodeType
    name: ShortText
    description: FreeText | None = None
    args_schema: JsonObject
    allow_without_credentials: bool = False


dummy(  # TODO
    "node_templates.create",
    channel="user",
    roles=OWNERS,
    summary="Add a node template to the tenant's catalog.",
    input=NodeTemplateCreate,
    output=NodeTemplate,
)
