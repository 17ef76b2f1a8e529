"""`release.request`: An owner asks for an action version to be released in an environment.

The request waits (`pending`) until a `manage.py release build` or `promote` releases that
version there; then it is `released` and the admin audit log tells the requester.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from actions.catalog._common import ActionName, Environment
from actions.contract.payloads import FreeText, ObjectId, Payload, Result
from actions.contract.registry import action
from tenants.roles import OWNERS


class ReleaseRequestCreate(Payload):
    action: ActionName
    version: int = Field(default=1, ge=1)
    environment: Environment
    note: Annotated[FreeText, StringConstraints(min_length=10, max_length=2000)]


class ReleaseRequest(Result):
    id: ObjectId
    action: ActionName
    version: int = Field(ge=1)
    environment: Environment
    note: Annotated[str, StringConstraints(max_length=2000)]
    tenant: Annotated[str, StringConstraints(max_length=63)]
    requester: Annotated[str, StringConstraints(max_length=254)]
    status: Literal["pending", "released"]
    requested_at: datetime
    done_at: datetime | None = None


@action(
    "release.request",
    channel="admin",
    roles=OWNERS,
    summary="Ask for an action version to be released in an environment.",
    input=ReleaseRequestCreate,
    output=ReleaseRequest,
    idempotent=False,
)
def release_request(ctx, payload: ReleaseRequestCreate) -> ReleaseRequest:
    from release import services

    request = services.release_request_create(
        tenant=ctx.tenant,
        requester=ctx.actor.email,
        action=payload.action,
        version=payload.version,
        environment=payload.environment,
        note=payload.note,
    )
    return ReleaseRequest.model_validate(services.request_describe(request))
