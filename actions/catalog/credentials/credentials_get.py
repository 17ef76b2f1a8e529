"""`credentials.get`: Describe a credential (without its secrets)."""

from actions.catalog._common import ById
from actions.catalog.credentials._models import Credential
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

dummy(  # TODO
    "credentials.get",
    channel="user",
    roles=MEMBERS,
    summary="Describe a credential (without its secrets).",
    input=ById,
    output=Credential,
)
