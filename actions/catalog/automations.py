"""Automations: rules that react to a trigger with a list of steps (user channel)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import ListResult, omittable
from actions.contract.payloads import (
    FreeText,
    JsonObject,
    ObjectId,
    Page,
    Payload,
    Result,
    ShortText,
)
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

Trigger = Literal[
    "lead_created", "lead_status_changed", "message_received", "schedule", "webhook", "manual"
]
StepType = Literal[
    "send_message",
    "update_lead",
    "assign_owner",
    "add_note",
    "notify",
    "wait",
    "call_webhook",
    "start_flow",
]
ExecutionStatus = Literal["queued", "running", "succeeded", "failed", "skipped"]


class AutomationStep(Payload):
    """One step; `params` are checked against the step type's own schema."""

    type: StepType
    params: JsonObject


class AutomationQuery(Page):
    trigger: Trigger | None = None
    enabled: bool | None = None


class Automation(Result):
    id: ObjectId
    name: ShortText
    description: FreeText | None
    trigger: Trigger
    trigger_config: JsonObject  # e.g. the schedule, or the lead status watched
    conditions: JsonObject  # all must hold for the steps to run
    steps: list[AutomationStep] = Field(max_length=50)
    enabled: bool
    last_run_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AutomationList(ListResult[Automation]):
    pass


class AutomationCreate(Payload):
    name: ShortText
    description: FreeText | None = None
    trigger: Trigger
    trigger_config: JsonObject = Field(default_factory=dict)
    conditions: JsonObject = Field(default_factory=dict)
    steps: list[AutomationStep] = Field(min_length=1, max_length=50)
    enabled: bool = False


class AutomationUpdate(Payload):
    """Fields left out are unchanged; nullable ones sent as null are cleared."""

    id: ObjectId
    name: ShortText = omittable()
    description: FreeText | None = None
    trigger: Trigger = omittable()
    trigger_config: JsonObject = omittable()
    conditions: JsonObject = omittable()
    steps: list[AutomationStep] = omittable(min_length=1, max_length=50)
    enabled: bool = omittable()


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
    "automations.list",
    channel="user",
    roles=MEMBERS,
    summary="List automations.",
    input=AutomationQuery,
    output=AutomationList,
)
dummy(  # TODO
    "automations.create",
    channel="user",
    roles=MEMBERS,
    summary="Create an automation: a trigger, conditions and steps.",
    input=AutomationCreate,
    output=Automation,
)
dummy(  # TODO
    "automations.update",
    channel="user",
    roles=MEMBERS,
    summary="Change an automation, or enable or disable it.",
    input=AutomationUpdate,
    output=Automation,
)
dummy(  # TODO
    "automations.execute",
    channel="user",
    roles=MEMBERS,
    summary="Run an automation now (queued); dry_run only evaluates it.",
    input=AutomationExecute,
    output=AutomationExecution,
)
