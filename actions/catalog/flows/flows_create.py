"""`flows.create`: Create a flow in a workspace, with an empty graph."""

from actions.catalog.flows._models import Flow, FlowStatus
from actions.contract.payloads import FreeText, ObjectId, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class FlowCreate(Payload):
    workspace_id: ObjectId
    title: ShortText
    description: FreeText | None = None
    status: FlowStatus = "draft"
    enabled: bool = False


dummy(  # TODO
    "flows.create",
    channel="user",
    roles=MEMBERS,
    summary="Create a flow in a workspace, with an empty graph.",
    input=FlowCreate,
    output=Flow,
)
