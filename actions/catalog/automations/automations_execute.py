"""`automations.execute`: Run an automation now (queued); dry_run only evaluates it."""

from datetime import datetime
from typing import Literal

from actions.contract.payloads import JsonObject, ObjectId, Payload, Result
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

ExecutionStatus = Literal["queued", "running", "succeeded", "failed", "skipped"]


class AutomationExecute(Payload):
    """Runs an automation now, as if triggered; `dry_run` evaluates without acting."""

    id: ObjectId
    lead_id: ObjectId | None = None  # the lead the steps act on, if any
    input: JsonObject | None = None
    dry_run: bool = False


class AutomationExecution(Result):
    id: ObjectId
    automation_id: ObjectId
    status: ExecutionStatus
    dry_run: bool
    created_at: datetime


dummy(  # TODO
    "automations.execute",
    channel="user",
    roles=MEMBERS,
    summary="Run an automation now (queued); dry_run only evaluates it.",
    input=AutomationExecute,
    output=AutomationExecution,
)
