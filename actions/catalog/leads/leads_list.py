"""`leads.list`: List leads, newest first, filtered by status, source, owner or text."""

from actions.catalog._common import ListResult
from actions.catalog.leads._models import Lead, LeadSource, LeadStatus
from actions.contract.payloads import ObjectId, Page, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class LeadQuery(Page):
    status: LeadStatus | None = None
    source: LeadSource | None = None
    owner_id: ObjectId | None = None
    search: ShortText | None = None  # matches name, email, phone or company


class LeadList(ListResult[Lead]):
    pass


dummy(  # TODO
    "leads.list",
    channel="user",
    roles=MEMBERS,
    summary="List leads, newest first, filtered by status, source, owner or text.",
    input=LeadQuery,
    output=LeadList,
)
