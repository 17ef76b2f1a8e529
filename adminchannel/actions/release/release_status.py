"""`release.status`: List actions with their state and whether they are released here."""

from pydantic import Field

from actions.catalog._common import (
    ActionName,
    ActionState,
    ChannelName,
    CodeHash,
    Environment,
    ListResult,
)
from actions.contract.payloads import Page, Result
from actions.contract.registry import dummy
from tenants.roles import OWNERS


class ReleaseQuery(Page):
    action: ActionName | None = None
    state: ActionState | None = None
    released: bool | None = None


class ActionRelease(Result):
    name: ActionName
    version: int = Field(ge=1)
    channel: ChannelName
    state: ActionState
    todo: bool  # a dummy: answers `not_implemented`
    released: bool  # in the current environment's manifest
    code_hash: CodeHash | None  # pinned by the manifest when released


class ReleaseStatus(ListResult[ActionRelease]):
    environment: Environment


dummy(  # TODO
    "release.status",
    channel="admin",
    roles=OWNERS,
    summary="List actions with their state and whether they are released here.",
    input=ReleaseQuery,
    output=ReleaseStatus,
)
