"""`runs.get`: Read a run: its status and every node attempt."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import ById
from actions.catalog.runs._models import RunError, RunSummary
from actions.contract.payloads import JsonObject, ObjectId, Result
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class NodeAttempt(Result):
    node_id: ObjectId
    attempt: int = Field(ge=1)
    status: Literal["running", "waiting", "succeeded", "failed", "skipped", "cancelled"]
    started_at: datetime
    finished_at: datetime | None
    output: JsonObject | None  # what the node passed on as the next payload
    error: RunError | None


class Run(RunSummary):
    input: JsonObject | None
    output: JsonObject | None
    attempts: list[NodeAttempt] = Field(max_length=1000)  # in start order


dummy(  # TODO
    "runs.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a run: its status and every node attempt.",
    input=ById,
    output=Run,
)
