"""`release.request`: Ask for an action version to be released in the current environment."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from actions.catalog._common import ActionName, Environment
from actions.contract.payloads import FreeText, ObjectId, Payload, Result
from actions.contract.registry import dummy
from tenants.roles import OWNERS


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
    "release.request",
    channel="admin",
    roles=OWNERS,
    summary="Ask for an action version to be released in the current environment.",
    input=ReleaseRequestCreate,
    output=ReleaseRequest,
)
