"""Wellness: health and habit measurements of a client (a lead), over time (user channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Literal

from actions.contract.payloads import FreeText, ObjectId, Result

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


class MetricPoint(Result):
    id: ObjectId
    lead_id: ObjectId
    metric: Metric
    value: float
    measured_at: datetime
    note: FreeText | None
    source: Literal["manual", "device", "import"]
    recorded_by: ObjectId | None  # the member who entered it
