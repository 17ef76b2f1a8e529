"""`leads.create`: Create a lead."""

from actions.catalog._common import Phone
from actions.catalog.leads._models import Lead, LeadSource, LeadStatus
from actions.contract.payloads import Email, FreeText, ObjectId, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class LeadCreate(Payload):
    name: ShortText
    email: Email | None = None
    phone: Phone | None = None
    company: ShortText | None = None
    source: LeadSource = "other"
    status: LeadStatus = "new"
    notes: FreeText | None = None
    owner_id: ObjectId | None = None


dummy(  # TODO
    "leads.create",
    channel="user",
    roles=MEMBERS,
    summary="Create a lead.",
    input=LeadCreate,
    output=Lead,
)
