"""`flows.update`: Change a flow: its graph, title, description, status or enabled flag."""

from pydantic import Field

from actions.catalog._common import omittable
from actions.catalog.flows._models import Flow, FlowStatus
from actions.contract.payloads import FreeText, JsonObject, ObjectId, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


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
    "flows.update",
    channel="user",
    roles=MEMBERS,
    summary="Change a flow: its graph, title, description, status or enabled flag.",
    input=FlowUpdate,
    output=Flow,
)
