"""`flows.get`: Read a flow with its graph."""

from actions.catalog._common import ById
from actions.catalog.flows._models import Flow
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

dummy(  # TODO
    "flows.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a flow with its graph.",
    input=ById,
    output=Flow,
)
