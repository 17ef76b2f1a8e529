"""`analytics.cta.export`: Export call-to-action events of a time window as CSV or JSON."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime

from actions.catalog._common import TimeWindow
from actions.contract.payloads import ObjectId, Result, Slug
from actions.contract.registry import dummy
from tenants.roles import OWNERS

ExportFormat = Literal["csv", "json"]


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
    "analytics.cta.export",
    channel="user",
    roles=OWNERS,
    summary="Export call-to-action events of a time window as CSV or JSON.",
    input=CtaExportRequest,
    output=CtaExport,
)
