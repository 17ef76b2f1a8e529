"""Analytics: call-to-action events, recorded and exported (user channel)."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime

from actions.catalog._common import TimeWindow
from actions.payloads import JsonObject, ObjectId, Payload, Result, Slug, Url
from actions.registry import MEMBERS, OWNERS, dummy

ExportFormat = Literal["csv", "json"]


class CtaRecord(Payload):
    cta_id: Slug
    page: Url | None = None  # where the call to action was shown
    variant: Slug | None = None  # A/B variant
    event: Literal["view", "click", "submit"] = "click"
    metadata: JsonObject | None = None


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


dummy(  # TODO
    "analytics.cta.record",
    channel="user",
    roles=MEMBERS,
    summary="Record a call-to-action event.",
    input=CtaRecord,
    output=CtaRecorded,
)
dummy(  # TODO
    "analytics.cta.export",
    channel="user",
    roles=OWNERS,
    summary="Export call-to-action events of a time window as CSV or JSON.",
    input=CtaExportRequest,
    output=CtaExport,
)
