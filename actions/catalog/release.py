"""Release: where each action stands, and asking for one to be released (admin channel)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from actions.catalog._common import (
    ActionName,
    ActionState,
    ChannelName,
    CodeHash,
    Environment,
    ListResult,
)
from actions.contract.payloads import FreeText, ObjectId, Page, Payload, Result
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


class ReleaseRequestCreate(Payload):
    action: ActionName
    version: int = Field(default=1, ge=1)
    reason: Annotated[FreeText, StringConstraints(min_length=10, max_length=2000)]


class ReleaseRequest(Result):
    id: ObjectId
    action: ActionName
    version: int = Field(ge=1)
    environment: Environment
    status: Literal["pending", "approved", "rejected", "released"]
    requested_at: datetime


dummy(  # TODO
    "release.status",
    channel="admin",
    roles=OWNERS,
    summary="List actions with their state and whether they are released here.",
    input=ReleaseQuery,
    output=ReleaseStatus,
)
dummy(  # TODO
    "release.request",
    channel="admin",
    roles=OWNERS,
    summary="Ask for an action version to be released in the current environment.",
    input=ReleaseRequestCreate,
    output=ReleaseRequest,
)
