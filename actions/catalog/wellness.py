"""Wellness: health and habit measurements of a client (a lead), over time (user channel)."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from actions.catalog._common import ListResult, TimeWindow
from actions.contract.payloads import FreeText, ObjectId, Page, Payload, Result
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

# The unit is part of the metric's name.
Metric = Literal[
    "weight_kg",
    "body_fat_pct",
    "heart_rate_bpm",
    "blood_pressure_systolic_mmhg",
    "blood_pressure_diastolic_mmhg",
    "sleep_hours",
    "steps",
    "water_ml",
    "mood_score",
    "energy_score",
    "stress_score",
]


class MetricQuery(Page, TimeWindow):
    lead_id: ObjectId | None = None
    metric: Metric | None = None


class MetricRecord(Payload):
    lead_id: ObjectId
    metric: Metric
    value: float = Field(ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    measured_at: AwareDatetime | None = None  # None: now
    note: FreeText | None = None


class MetricPoint(Result):
    id: ObjectId
    lead_id: ObjectId
    metric: Metric
    value: float
    measured_at: datetime
    note: FreeText | None
    source: Literal["manual", "device", "import"]
    recorded_by: ObjectId | None  # the member who entered it


class MetricList(ListResult[MetricPoint]):
    pass


dummy(  # TODO
    "wellness.metrics.list",
    channel="user",
    roles=MEMBERS,
    summary="List measurements, newest first, by client, metric and time.",
    input=MetricQuery,
    output=MetricList,
)
dummy(  # TODO
    "wellness.metrics.record",
    channel="user",
    roles=MEMBERS,
    summary="Record a measurement for a client.",
    input=MetricRecord,
    output=MetricPoint,
)
