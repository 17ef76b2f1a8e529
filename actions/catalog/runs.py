"""Runs: executions of a flow, in test or production mode, node by node (user channel)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import ById, ErrorCodeName, ListResult
from actions.contract.payloads import FreeText, JsonObject, ObjectId, Page, Payload, Result
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

RunMode = Literal["test", "prod"]
RunStatus = Literal["queued", "running", "waiting", "succeeded", "failed", "cancelled"]


class RunStart(Payload):
    flow_id: ObjectId
    mode: RunMode = "test"
    input: JsonObject | None = None  # None: the flow's start input; passed on unchanged


class RunQuery(Page):
    flow_id: ObjectId | None = None
    status: RunStatus | None = None
    mode: RunMode | None = None


class RunError(Result):
    code: ErrorCodeName
    message: FreeText
    node_id: ObjectId | None


class RunSummary(Result):
    id: ObjectId
    flow_id: ObjectId
    flow_version: int = Field(ge=1)
    mode: RunMode
    status: RunStatus
    trigger: Literal["manual", "webhook", "event", "schedule"]
    error: RunError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


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


class RunList(ListResult[RunSummary]):
    pass


dummy(  # TODO
    "runs.start",
    channel="user",
    roles=MEMBERS,
    summary="Start a run of a flow (test mode, or prod for a flow in production).",
    input=RunStart,
    output=RunSummary,
)
dummy(  # TODO
    "runs.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a run: its status and every node attempt.",
    input=ById,
    output=Run,
)
dummy(  # TODO
    "runs.list",
    channel="user",
    roles=MEMBERS,
    summary="List runs, newest first.",
    input=RunQuery,
    output=RunList,
)
dummy(  # TODO
    "runs.cancel",
    channel="user",
    roles=MEMBERS,
    summary="Cancel a queued or running run.",
    input=ById,
    output=RunSummary,
)
