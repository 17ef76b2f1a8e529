"""`runs.start`: Start a run of a flow (test mode, or prod for a flow in production)."""

from actions.catalog.runs._models import RunMode, RunSummary
from actions.contract.payloads import JsonObject, ObjectId, Payload
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class RunStart(Payload):
    flow_id: ObjectId
    mode: RunMode = "test"
    input: JsonObject | None = None  # None: the flow's start input; passed on unchanged


dummy(  # TODO
    "runs.start",
    channel="user",
    roles=MEMBERS,
    summary="Start a run of a flow (test mode, or prod for a flow in production).",
    input=RunStart,
    output=RunSummary,
)
