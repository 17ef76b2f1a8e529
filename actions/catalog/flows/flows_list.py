"""`flows.list`: List flows (without their graphs)."""

from actions.catalog._common import ListResult
from actions.catalog.flows._models import FlowStatus, FlowSummary
from actions.contract.payloads import ObjectId, Page, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class FlowQuery(Page):
    workspace_id: ObjectId | None = None
    status: FlowStatus | None = None
    enabled: bool | None = None
    search: ShortText | None = None  # matches the title


class FlowList(ListResult[FlowSummary]):
    pass


dummy(  # TODO
    "flows.list",
    channel="user",
    roles=MEMBERS,
    summary="List flows (without their graphs).",
    input=FlowQuery,
    output=FlowList,
)
