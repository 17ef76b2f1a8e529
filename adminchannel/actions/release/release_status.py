"""`release.status`: The actions with their state and whether they are released in this
environment, and the tenant's release requests with theirs."""

from pydantic import Field

from actions.catalog._common import (
    MAX_ITEMS,
    ActionName,
    ActionState,
    ChannelName,
    CodeHash,
    Environment,
    ListResult,
)
from actions.contract.payloads import Page, PageInfo, Result
from actions.contract.registry import action
from adminchannel.actions.release.release_request import ReleaseRequest
from config.cursors import number
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
    released: bool  # runs in the current environment (in its manifest, or local: all)
    code_hash: CodeHash | None  # pinned by the current environment's manifest
    drift: bool  # released, but its code no longer matches the pin


class ReleaseStatus(ListResult[ActionRelease]):
    environment: Environment
    requests: list[ReleaseRequest] = Field(max_length=MAX_ITEMS)


@action(
    "release.status",
    channel="admin",
    roles=OWNERS,
    summary="List actions with their state and release here, and the tenant's requests.",
    input=ReleaseQuery,
    output=ReleaseStatus,
)
def release_status(ctx, payload: ReleaseQuery) -> ReleaseStatus:
    from django.conf import settings

    from release import services

    here = settings.SWITCHBOARD_ENV
    items = []
    for row in services.release_status()["actions"]:
        where = row["environments"][here]
        item = ActionRelease(
            name=row["name"], version=row["version"], channel=row["channel"],
            state=row["state"], todo=row["todo"], released=where["released"],
            code_hash=where["pinned"], drift=where["drift"],
        )  # fmt: skip
        if payload.action not in (None, item.name) or payload.state not in (None, item.state):
            continue
        if payload.released is None or payload.released == item.released:
            items.append(item)
    start = number(payload.cursor) or 0
    page = items[start : start + payload.limit]
    more = start + payload.limit < len(items)
    requests = services.release_requests(tenant=ctx.tenant)[-MAX_ITEMS:]
    requests_out = [ReleaseRequest.model_validate(services.request_describe(r)) for r in requests]
    next_page = PageInfo(next_cursor=str(start + payload.limit) if more else None)
    return ReleaseStatus.model_validate(
        {"environment": here, "items": page, "requests": requests_out, "page": next_page}
    )
