"""`flows.delete`: Delete a flow."""

from actions.catalog._common import ById
from actions.contract.payloads import Deleted
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

dummy(  # TODO
    "flows.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a flow.",
    input=ById,
    output=Deleted,
)
