"""Automations: rules that react to a trigger with a list of steps (user channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.contract.payloads import FreeText, JsonObject, ObjectId, Payload, Result, ShortText

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


class AutomationStep(Payload):
    """One step; `params` are checked against the step type's own schema."""

    type: StepType
    params: JsonObject


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
