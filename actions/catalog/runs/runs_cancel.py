"""`runs.cancel`: Cancel a queued or running run."""

from actions.catalog._common import ById
from actions.catalog.runs._models import RunSummary
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

dummy(  # TODO
    "runs.cancel",
    channel="user",
    roles=MEMBERS,
    summary="Cancel a queued or running run.",
    input=ById,
    output=RunSummary,
)
