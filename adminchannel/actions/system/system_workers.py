"""`system.workers`: Live workers per channel: the queues each consumes and what it runs now
(adminchannel/monitoring.py, `workers_live`)."""

from pydantic import Field

from actions.catalog._common import MAX_ITEMS, ChannelName
from actions.contract.payloads import Empty, Result, ShortText
from actions.contract.registry import action
from adminchannel.actions.system._models import QueueName
from tenants.roles import DEVELOPERS


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
