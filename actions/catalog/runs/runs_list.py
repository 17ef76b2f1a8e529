"""`runs.list`: List runs, newest first."""

from actions.catalog._common import ListResult
from actions.catalog.runs._models import RunMode, RunStatus, RunSummary
from actions.contract.payloads import ObjectId, Page
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class RunQuery(Page):
    flow_id: ObjectId | None = None
    status: RunStatus | None = None
    mode: RunMode | None = None


class RunList(ListResult[RunSummary]):
    pass


dummy(  # TODO
    "runs.list",
    channel="user",
    roles=MEMBERS,
    summary="List runs, newest first.",
    input=RunQuery,
    output=RunList,
)
