"""`node_templates.list`: List the node templates flows can use."""

from actions.catalog._common import ListResult
from actions.catalog.node_templates._models import NodeTemplate, NodeType
from actions.contract.payloads import Page, Slug
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class NodeTemplateQuery(Page):
    provider: Slug | None = None
    type: NodeType | None = None


class NodeTemplateList(ListResult[NodeTemplate]):
    pass


dummy(  # TODO
    "node_templates.list",
    channel="user",
    roles=MEMBERS,
    summary="List the node templates flows can use.",
    input=NodeTemplateQuery,
    output=NodeTemplateList,
)
