"""`workspaces.delete`: Delete a workspace with its flows, credentials and runs."""

from actions.catalog._common import ById
from actions.contract.payloads import Deleted
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

dummy(  # TODO
    "workspaces.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a workspace with its flows, credentials and runs.",
    input=ById,
    output=Deleted,
)
