"""`credentials.delete`: Delete a credential."""

from actions.catalog._common import ById
from actions.contract.payloads import Deleted
from actions.contract.registry import action
from tenants.roles import MEMBERS


@action(
    "credentials.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a credential.",
    input=ById,
    output=Deleted,
)
def credentials_delete(ctx, payload: ById) -> Deleted:
    ctx.connectors.credential_delete(payload.id)
    return Deleted(id=payload.id)
