"""`credentials.delete`: Delete a credential."""

from actions.catalog._common import InWorkspace
from actions.catalog.credentials._models import credential_in_workspace
from actions.contract.payloads import Deleted
from actions.contract.registry import action
from tenants.roles import MEMBERS


@action(
    "credentials.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a credential.",
    input=InWorkspace,
    output=Deleted,
)
def credentials_delete(ctx, payload: InWorkspace) -> Deleted:
    credential_in_workspace(ctx, payload)  # not_found when it is in another workspace
    ctx.connectors.credential_delete(payload.id)
    return Deleted(id=payload.id)
