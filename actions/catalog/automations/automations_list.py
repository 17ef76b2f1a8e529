"""`automations.list`: List automations."""

from actions.catalog._common import ListResult
from actions.catalog.automations._models import Automation, Trigger
from actions.contract.payloads import Page
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class AutomationQuery(Page):
    trigger: Trigger | None = None
    enabled: bool | None = None


class AutomationList(ListResult[Automation]):
    pass


dummy(  # TODO
    "automations.list",
    channel="user",
    roles=MEMBERS,
    summary="List automations.",
    input=AutomationQuery,
    output=AutomationList,
)
