"""`workspaces.list`: List the workspaces you may use."""

from actions.catalog._common import ListResult
from actions.catalog.workspaces._models import Workspace
from actions.contract.payloads import Page, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class WorkspaceQuery(Page):
    search: ShortText | None = None  # matches slug or name


class WorkspaceList(ListResult[Workspace]):
    pass


dummy(  # TODO
    "workspaces.list",
    channel="user",
    roles=MEMBERS,
    summary="List the workspaces you may use.",
    input=WorkspaceQuery,
    output=WorkspaceList,
)
