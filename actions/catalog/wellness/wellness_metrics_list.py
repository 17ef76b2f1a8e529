"""`wellness.metrics.list`: List measurements, newest first, by client, metric and time."""

from actions.catalog._common import ListResult, TimeWindow
from actions.catalog.wellness._models import Metric, MetricPoint
from actions.contract.payloads import ObjectId, Page
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class MetricQuery(Page, TimeWindow):
    lead_id: ObjectId | None = None
    metric: Metric | None = None


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
