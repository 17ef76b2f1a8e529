"""`workspaces.update`: Rename a workspace or change its description."""

from actions.catalog._common import omittable
from actions.catalog.workspaces._models import Workspace
from actions.contract.payloads import FreeText, ObjectId, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class WorkspaceUpdate(Payload):
    """Fields left out are unchanged; nullable ones sent as null are cleared."""

    id: ObjectId
    name: ShortText = omittable()
    description: FreeText | None = None


dummy(  # TODO
    "workspaces.update",
    channel="user",
    roles=MEMBERS,
    summary="Rename a workspace or change its description.",
    input=WorkspaceUpdate,
    output=Workspace,
)
