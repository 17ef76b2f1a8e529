"""`dashboard.summary`: Summarise the tenant's activity: actions by status, errors, members,
subscriptions, and the admin audit chain's state (adminchannel/summaries.py)."""

from datetime import datetime

from pydantic import Field

from actions.catalog._common import ActionName, ErrorCodeName, TimeWindow
from actions.contract.payloads import Result
from actions.contract.registry import action
from adminchannel.actions.audit._models import ChainState
from tenants.roles import OWNERS


class StatusCounts(Result):
    ok: int = Field(ge=0)
    error: int = Field(ge=0)
    pending: int = Field(ge=0)


class ActionCount(Result):
    action: ActionName
    count: int = Field(ge=0)


class DashboardSummary(Result):
    since: datetime  # the window used: defaults to the last 24 hours
    until: datetime
    actions: StatusCounts  # action messages of the tenant, by status
    top_actions: list[ActionCount] = Field(max_length=20)
    errors: int = Field(ge=0)
    errors_by_code: dict[ErrorCodeName, int] = Field(max_length=20)
    members: int = Field(ge=0)
    owners: int = Field(ge=0)
    subscriptions: int = Field(ge=0)  # connectors subscribed
    audit_chain: ChainState


@action(
    "dashboard.summary",
    channel="admin",
    roles=OWNERS,
    summary="Summarise the tenant's activity: actions by status, errors, members, subscriptions.",
    input=TimeWindow,
    output=DashboardSummary,
    state="under_dev",
)
def dashboard_summary(ctx, payload: TimeWindow) -> DashboardSummary:
    from adminchannel.summaries import tenant_summary

    return DashboardSummary.model_validate(
        tenant_summary(tenant=ctx.tenant_obj, since=payload.since, until=payload.until)
    )
