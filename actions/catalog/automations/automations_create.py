"""`automations.create`: Create an automation: a trigger, conditions and steps."""

from pydantic import Field

from actions.catalog.automations._models import Automation, AutomationStep, Trigger
from actions.contract.payloads import FreeText, JsonObject, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class AutomationCreate(Payload):
    name: ShortText
    description: FreeText | None = None
    trigger: Trigger
    trigger_config: JsonObject = Field(default_factory=dict)
    conditions: JsonObject = Field(default_factory=dict)
    steps: list[AutomationStep] = Field(min_length=1, max_length=50)
    enabled: bool = False


dummy(  # TODO
    "automations.create",
    channel="user",
    roles=MEMBERS,
    summary="Create an automation: a trigger, conditions and steps.",
    input=AutomationCreate,
    output=Automation,
)
