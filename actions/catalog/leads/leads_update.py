"""`leads.update`: Change a lead's details, status or owner."""

from actions.catalog._common import Phone, omittable
from actions.catalog.leads._models import Lead, LeadSource, LeadStatus
from actions.contract.payloads import Email, FreeText, ObjectId, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


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


dummy(  # TODO
    "leads.update",
    channel="user",
    roles=MEMBERS,
    summary="Change a lead's details, status or owner.",
    input=LeadUpdate,
    output=Lead,
)
