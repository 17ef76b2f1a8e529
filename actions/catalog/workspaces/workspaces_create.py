"""`workspaces.create`: Create a workspace."""

from actions.catalog.workspaces._models import Workspace
from actions.contract.payloads import FreeText, Payload, ShortText, Slug
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class WorkspaceCreate(Payload):
    slug: Slug
    name: ShortText
    description: FreeText | None = None


dummy(  # TODO
    "workspaces.create",
    channel="user",
    roles=MEMBERS,
    summary="Create a workspace.",
    input=WorkspaceCreate,
    output=Workspace,
)
