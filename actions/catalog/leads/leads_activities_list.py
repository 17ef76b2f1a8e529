"""`leads.activities.list`: List a lead's activity history, newest first."""

from datetime import datetime
from typing import Literal

from actions.catalog._common import ListResult
from actions.contract.payloads import FreeText, ObjectId, Page, Result, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

ActivityKind = Literal[
    "created", "updated", "status_changed", "note", "email", "sms", "whatsapp", "call", "meeting"
]


class LeadActivityQuery(Page):
    lead_id: ObjectId
    kind: ActivityKind | None = None


class LeadActivity(Result):
    id: ObjectId
    lead_id: ObjectId
    kind: ActivityKind
    summary: ShortText
    body: FreeText | None
    actor_id: ObjectId | None  # None: the system (an automation, a webhook)
    at: datetime


class LeadActivityList(ListResult[LeadActivity]):
    pass


dummy(  # TODO
    "leads.activities.list",
    channel="user",
    roles=MEMBERS,
    summary="List a lead's activity history, newest first.",
    input=LeadActivityQuery,
    output=LeadActivityList,
)
