"""`wellness.metrics.record`: Record a measurement for a client."""

from pydantic import AwareDatetime, Field

from actions.catalog.wellness._models import Metric, MetricPoint
from actions.contract.payloads import FreeText, ObjectId, Payload
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class MetricRecord(Payload):
    lead_id: ObjectId
    metric: Metric
    value: float = Field(ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    measured_at: AwareDatetime | None = None  # None: now
    note: FreeText | None = None


dummy(  # TODO
    "wellness.metrics.record",
    channel="user",
    roles=MEMBERS,
    summary="Record a measurement for a client.",
    input=MetricRecord,
    output=MetricPoint,
)
