"""`credentials.get`: Describe a credential (without its secrets)."""

from actions.catalog._common import ById
from actions.catalog.credentials._models import Credential
from actions.contract.registry import action
from tenants.roles import MEMBERS


@action(
    "credentials.get",
    channel="user",
    roles=MEMBERS,
    summary="Describe a credential (without its secrets).",
    input=ById,
    output=Credential,
)
def credentials_get(ctx, payload: ById) -> Credential:
    return Credential.model_validate(ctx.connectors.credential(payload.id))
