"""`automations.update`: Change an automation, or enable or disable it."""

from actions.catalog._common import omittable
from actions.catalog.automations._models import Automation, AutomationStep, Trigger
from actions.contract.payloads import FreeText, JsonObject, ObjectId, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


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


dummy(  # TODO
    "automations.update",
    channel="user",
    roles=MEMBERS,
    summary="Change an automation, or enable or disable it.",
    input=AutomationUpdate,
    output=Automation,
)
