"""`leads.get`: Read a lead."""

from actions.catalog._common import ById
from actions.catalog.leads._models import Lead
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

dummy(  # TODO
    "leads.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a lead.",
    input=ById,
    output=Lead,
)
