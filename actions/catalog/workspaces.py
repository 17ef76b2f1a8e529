"""Workspaces: the tenant's containers of flows, credentials and runs (user channel)."""

from datetime import datetime

from actions.catalog._common import ById, ListResult, omittable
from actions.contract.payloads import (
    Deleted,
    FreeText,
    ObjectId,
    Page,
    Payload,
    Result,
    ShortText,
    Slug,
)
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class WorkspaceQuery(Page):
    search: ShortText | None = None  # matches slug or name


class Workspace(Result):
    id: ObjectId
    slug: Slug  # fixed at creation: webhook addresses use it
    name: ShortText
    description: FreeText | None
    created_at: datetime
    updated_at: datetime


class WorkspaceList(ListResult[Workspace]):
    pass


class WorkspaceCreate(Payload):
    slug: Slug
    name: ShortText
    description: FreeText | None = None


class WorkspaceUpdate(Payload):
    """Fields left out are unchanged; nullable ones sent as null are cleared."""

    id: ObjectId
    name: ShortText = omittable()
    description: FreeText | None = None


dummy(  # TODO
    "workspaces.list",
    channel="user",
    roles=MEMBERS,
    summary="List the workspaces you may use.",
    input=WorkspaceQuery,
    output=WorkspaceList,
)
dummy(  # TODO
    "workspaces.create",
    channel="user",
    roles=MEMBERS,
    summary="Create a workspace.",
    input=WorkspaceCreate,
    output=Workspace,
)
dummy(  # TODO
    "workspaces.update",
    channel="user",
    roles=MEMBERS,
    summary="Rename a workspace or change its description.",
    input=WorkspaceUpdate,
    output=Workspace,
)
dummy(  # TODO
    "workspaces.delete",
    channel="user",
    roles=MEMBERS,
    summary="Delete a workspace with its flows, credentials and runs.",
    input=ById,
    output=Deleted,
)
