"""Analytics: call-to-action events, recorded and exported (user channel)."""

from datetime import datetime
from typing import Literal

from django.utils import timezone
from pydantic import AwareDatetime

from actions.catalog._common import TimeWindow
from actions.contract.context import ActionContext
from actions.contract.payloads import ObjectId, Payload, Result, Slug, Url
from actions.contract.registry import action, dummy
from actions.models import CtaEvent
from tenants.roles import MEMBERS, OWNERS

ExportFormat = Literal["csv", "json"]


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


class CtaExportRequest(TimeWindow):
    since: AwareDatetime
    until: AwareDatetime
    format: ExportFormat = "csv"
    cta_id: Slug | None = None


class CtaExport(Result):
    """The export is built in the background; its file is fetched once `ready`."""

    id: ObjectId
    status: Literal["queued", "running", "ready", "failed"]
    format: ExportFormat
    requested_at: datetime


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


dummy(  # TODO
    "analytics.cta.export",
    channel="user",
    roles=OWNERS,
    summary="Export call-to-action events of a time window as CSV or JSON.",
    input=CtaExportRequest,
    output=CtaExport,
)
