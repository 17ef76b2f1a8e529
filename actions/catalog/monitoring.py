"""Monitoring and operations on the admin channel: the tenant's dashboard summary, the
demo reset, queues, workers, metrics and the audit chain's state. The work is done in
adminchannel/ (monitoring, summaries) and the packages' services; these are the entries."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from actions.catalog._common import (
    MAX_ITEMS,
    ActionName,
    ChannelName,
    ErrorCodeName,
    TimeWindow,
)
from actions.contract.payloads import Empty, Payload, Result, ShortText, TenantSlug
from actions.contract.registry import action
from tenants.roles import DEVELOPERS, OWNERS

QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,200}$", max_length=200)]


# --- dashboard.summary --------------------------------------------------------------------
class StatusCounts(Result):
    ok: int = Field(ge=0)
    error: int = Field(ge=0)
    pending: int = Field(ge=0)


class ActionCount(Result):
    action: ActionName
    count: int = Field(ge=0)


class ChainState(Result):
    """The admin audit log's hash chain, verified whole (`manage.py audit_verify`)."""

    ok: bool
    checked: int = Field(ge=0)  # entries verified (before the first bad one)
    first_bad_seq: int | None
    problem: ShortText | None


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


# --- demo.reset -----------------------------------------------------------------------------
class DemoReset(Payload):
    """Destructive: `confirm` must spell "reset". Sessions of the tenants are invalidated."""

    confirm: Literal["reset"]
    tenants: list[TenantSlug] = Field(min_length=1, max_length=20)


class DemoTenantReset(Result):
    tenant: TenantSlug
    purged: int = Field(ge=0)  # business rows removed (and members, invitations not seeded)
    seeded: int = Field(ge=0)  # demo rows written
    users_signed_out: int = Field(ge=0)


class DemoResetDone(Result):
    tenants: list[DemoTenantReset] = Field(max_length=20)
    reset_at: datetime


@action(
    "demo.reset",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Purge business data of demo tenants, reseed them and end their sessions.",
    input=DemoReset,
    output=DemoResetDone,
    timeout_s=300,
    state="under_dev",
)
def demo_reset(ctx, payload: DemoReset) -> DemoResetDone:
    from django.utils import timezone

    from actions.contract.errors import ActionError, ErrorCode
    from actions.purge import schema_business_purge
    from tenants.services import demo_reset_people
    from tenants.services.demo import TENANTS

    unknown = sorted(set(payload.tenants) - set(TENANTS))
    if unknown:  # refuse before touching anything
        raise ActionError(
            ErrorCode.FORBIDDEN,
            f"Not demo tenants: {', '.join(unknown)}. Only {', '.join(TENANTS)} can be reset.",
        )
    done = []
    for slug in dict.fromkeys(payload.tenants):
        purged = schema_business_purge(schema=slug)
        people = demo_reset_people(slug=slug, by=ctx.actor)
        done.append(
            DemoTenantReset(
                tenant=slug,
                purged=purged + people["purged"],
                seeded=people["seeded"],
                users_signed_out=people["users_signed_out"],
            )
        )
    return DemoResetDone(tenants=done, reset_at=timezone.now())


# --- system.queues, system.workers, system.metrics -----------------------------------------
class QueueState(Result):
    name: QueueName
    channel: ChannelName  # whose broker login inspects it
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]  # actions, ingress...
    messages: int | None = Field(ge=0)  # ready messages; None: the broker could not tell
    consumers: int | None = Field(ge=0)
    oldest_waiting_s: float | None = Field(ge=0)  # oldest record waiting for a worker
    error: ShortText | None


class Queues(Result):
    queues: list[QueueState] = Field(max_length=50)
    checked_at: datetime


@action(
    "system.queues",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Each queue's depth, consumers and the age of its oldest waiting message.",
    input=Empty,
    output=Queues,
    state="under_dev",
)
def system_queues(ctx, payload: Empty) -> Queues:
    from django.utils import timezone

    from adminchannel.monitoring import queue_inspect

    return Queues.model_validate({"queues": queue_inspect(), "checked_at": timezone.now()})


class RunningTask(Result):
    task: ShortText | None
    tenant_schema: ShortText | None  # where the record is: a tenant schema, or `public`
    record: ShortText | None  # the action record's id


class WorkerState(Result):
    hostname: ShortText
    channel: ChannelName | None
    queues: list[QueueName] = Field(max_length=20)
    concurrency: int | None = Field(ge=0)
    pid: int | None
    uptime_s: int | None
    served: dict[ChannelName, int] = Field(max_length=2)  # actions run since it started
    running: list[RunningTask] = Field(max_length=MAX_ITEMS)


class Workers(Result):
    workers: list[WorkerState] = Field(max_length=MAX_ITEMS)
    channels: dict[ChannelName, int] = Field(max_length=2)  # live workers per channel


@action(
    "system.workers",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Live workers per channel: the queues each consumes and what it runs now.",
    input=Empty,
    output=Workers,
    state="under_dev",
)
def system_workers(ctx, payload: Empty) -> Workers:
    from adminchannel.monitoring import workers_live

    live = workers_live()
    channels = {c: sum(1 for w in live if w["channel"] == c) for c in ("user", "admin")}
    return Workers.model_validate({"workers": live, "channels": channels})


class MetricsQuery(Payload):
    minutes: int = Field(default=60, ge=5, le=180)


class ActionMetrics(Result):
    action: ActionName
    channel: ChannelName
    calls: int = Field(ge=0)
    errors: int = Field(ge=0)
    in_flight: int = Field(ge=0)  # accepted or running now
    calls_per_min: float = Field(ge=0)
    errors_per_min: float = Field(ge=0)
    p50_ms: float | None  # acceptance to answer
    p95_ms: float | None
    exec_p95_ms: float | None  # the handler's own time on the worker


class MinutePoint(Result):
    minute: datetime
    action: ActionName
    calls: int = Field(ge=0)
    errors: int = Field(ge=0)
    p95_ms: float | None


class Metrics(Result):
    since: datetime
    until: datetime
    minutes: int
    actions: list[ActionMetrics] = Field(max_length=1000)
    series: list[MinutePoint] = Field(max_length=200_000)
    query_ms: float


@action(
    "system.metrics",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Per action over the last hour: calls and errors per minute, p50/p95 latency.",
    input=MetricsQuery,
    output=Metrics,
    state="under_dev",
)
def system_metrics(ctx, payload: MetricsQuery) -> Metrics:
    from adminchannel.monitoring import action_metrics

    return Metrics.model_validate(action_metrics(minutes=payload.minutes))


# --- audit.admin.verify ---------------------------------------------------------------------
class ChainVerdict(ChainState):
    verified_at: datetime


@action(
    "audit.admin.verify",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Verify the admin audit log's hash chain; name the first tampered entry.",
    input=Empty,
    output=ChainVerdict,
    state="under_dev",
)
def audit_admin_verify(ctx, payload: Empty) -> ChainVerdict:
    from django.utils import timezone

    from adminchannel.summaries import audit_chain_state

    return ChainVerdict.model_validate({**audit_chain_state(), "verified_at": timezone.now()})
