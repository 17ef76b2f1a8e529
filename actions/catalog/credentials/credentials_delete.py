"""`credentials.delete`: Delete a credential."""

from actions.catalog._common import ById
from actions.contract.payloads import Deleted
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

dummy(  # TODO
    "credentials.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a credential.",
    input=ById,
    output=Deleted,
)
