"""`leads.delete`: Delete a lead."""

from actions.catalog._common import ById
from actions.contract.payloads import Deleted
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

dummy(  # TODO
    "leads.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a lead.",
    input=ById,
    output=Deleted,
)
