"""Runs: executions of a flow, in test or production mode, node by node (user channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import ErrorCodeName
from actions.contract.payloads import FreeText, ObjectId, Result

RunMode = Literal["test", "prod"]
RunStatus = Literal["queued", "running", "waiting", "succeeded", "failed", "cancelled"]


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
