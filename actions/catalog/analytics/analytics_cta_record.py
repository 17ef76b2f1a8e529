"""`analytics.cta.record`: Record a call-to-action event (one row in the tenant's schema)."""

from datetime import datetime
from typing import Literal

from django.utils import timezone
from pydantic import AwareDatetime

from actions.contract.context import ActionContext
from actions.contract.payloads import ObjectId, Payload, Result, Slug, Url
from actions.contract.registry import action
from actions.models import CtaEvent
from tenants.roles import MEMBERS


class CtaRecord(Payload):
    surface: Slug  # where the call to action was shown: a page, an email, a widget
    cta_id: Slug
    page: Url | None = None  # the page's address, when the surface is a page
    event: Literal["view", "click", "submit"] = "click"
    variant: Slug | None = None  # A/B variant
    lead_id: ObjectId | None = None
    session_id: ObjectId | None = None
    occurred_at: AwareDatetime | None = None  # when the client saw it; default: now


class CtaRecorded(Result):
    id: ObjectId
    recorded_at: datetime


@action(
    "analytics.cta.record",
    channel="user",
    roles=MEMBERS,
    state="under_dev",
    summary="Record a call-to-action event (one row in the tenant's schema).",
    input=CtaRecord,
    output=CtaRecorded,
)
def cta_record(ctx: ActionContext, payload: CtaRecord) -> CtaRecorded:
    event = CtaEvent.objects.create(
        surface=payload.surface,
        page=payload.page or "",
        cta_id=payload.cta_id,
        event=payload.event,
        variant=payload.variant or "",
        lead_id=payload.lead_id or "",
        session_id=payload.session_id or "",
        occurred_at=payload.occurred_at or timezone.now(),
        message_id=ctx.message_id,
    )
    return CtaRecorded(id=str(event.pk), recorded_at=event.recorded_at)
