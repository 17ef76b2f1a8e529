"""Leads: prospects and clients of the tenant, with their activity history (user channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Literal

from actions.catalog._common import Phone
from actions.contract.payloads import Email, FreeText, ObjectId, Result, ShortText

LeadStatus = Literal["new", "contacted", "qualified", "proposal", "won", "lost"]
LeadSource = Literal["website", "referral", "ads", "social", "email", "event", "import", "other"]


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
