"""Leads: prospects and clients of the tenant, with their activity history (user channel)."""

from datetime import datetime
from typing import Literal

from actions.catalog._common import ById, ListResult, Phone, omittable
from actions.contract.payloads import (
    Deleted,
    Email,
    FreeText,
    ObjectId,
    Page,
    Payload,
    Result,
    ShortText,
)
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

LeadStatus = Literal["new", "contacted", "qualified", "proposal", "won", "lost"]
LeadSource = Literal["website", "referral", "ads", "social", "email", "event", "import", "other"]
ActivityKind = Literal[
    "created", "updated", "status_changed", "note", "email", "sms", "whatsapp", "call", "meeting"
]


class LeadQuery(Page):
    status: LeadStatus | None = None
    source: LeadSource | None = None
    owner_id: ObjectId | None = None
    search: ShortText | None = None  # matches name, email, phone or company


class Lead(Result):
    id: ObjectId
    name: ShortText
    email: Email | None
    phone: Phone | None
    company: ShortText | None
    source: LeadSource
    status: LeadStatus
    notes: FreeText | None
    owner_id: ObjectId | None  # the member who follows the lead
    created_at: datetime
    updated_at: datetime


class LeadList(ListResult[Lead]):
    pass


class LeadCreate(Payload):
    name: ShortText
    email: Email | None = None
    phone: Phone | None = None
    company: ShortText | None = None
    source: LeadSource = "other"
    status: LeadStatus = "new"
    notes: FreeText | None = None
    owner_id: ObjectId | None = None


class LeadUpdate(Payload):
    """Fields left out are unchanged; nullable ones sent as null are cleared."""

    id: ObjectId
    name: ShortText = omittable()
    email: Email | None = None
    phone: Phone | None = None
    company: ShortText | None = None
    source: LeadSource = omittable()
    status: LeadStatus = omittable()
    notes: FreeText | None = None
    owner_id: ObjectId | None = None


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
    "leads.list",
    channel="user",
    roles=MEMBERS,
    summary="List leads, newest first, filtered by status, source, owner or text.",
    input=LeadQuery,
    output=LeadList,
)
dummy(  # TODO
    "leads.create",
    channel="user",
    roles=MEMBERS,
    summary="Create a lead.",
    input=LeadCreate,
    output=Lead,
)
dummy(  # TODO
    "leads.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a lead.",
    input=ById,
    output=Lead,
)
dummy(  # TODO
    "leads.update",
    channel="user",
    roles=MEMBERS,
    summary="Change a lead's details, status or owner.",
    input=LeadUpdate,
    output=Lead,
)
dummy(  # TODO
    "leads.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a lead.",
    input=ById,
    output=Deleted,
)
dummy(  # TODO
    "leads.activities.list",
    channel="user",
    roles=MEMBERS,
    summary="List a lead's activity history, newest first.",
    input=LeadActivityQuery,
    output=LeadActivityList,
)
