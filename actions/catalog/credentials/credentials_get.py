"""`credentials.get`: Describe a credential (without its secrets)."""

from actions.catalog._common import InWorkspace
from actions.catalog.credentials._models import Credential, credential_in_workspace
from actions.contract.registry import action
from tenants.roles import MEMBERS


@action(
    "credentials.get",
    channel="user",
    roles=MEMBERS,
    summary="Describe a credential (without its secrets).",
    input=InWorkspace,
    output=Credential,
)
def credentials_get(ctx, payload: InWorkspace) -> Credential:
    return Credential.model_validate(credential_in_workspace(ctx, payload))
