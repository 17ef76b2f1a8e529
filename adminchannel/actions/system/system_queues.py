"""`system.queues`: Each queue's depth, consumers and the age of its oldest waiting message
(adminchannel/monitoring.py, `queue_inspect`)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import ChannelName
from actions.contract.payloads import Empty, Result, ShortText
from actions.contract.registry import action
from adminchannel.actions.system._models import QueueName
from tenants.roles import DEVELOPERS


class QueueState(Result):
    channel: ChannelName  # whose broker login inspects it
    kind: Literal["work", "dead_letter"]
    declared: bool | None  # None: the broker could not be asked
    messages: int | None = Field(ge=0)  # ready (parked, for a dead-letter queue)
    consumers: int | None = Field(ge=0)
    oldest_waiting_s: float | None = Field(ge=0)  # oldest action record waiting for a worker
    error: ShortText | None  # the channel's broker could not be reached


class Queues(Result):
    queues: dict[QueueName, QueueState] = Field(max_length=50)
    dead_lettered: int = Field(ge=0)  # messages parked in the dead-letter queues
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

    queues = queue_inspect()
    parked = sum(q["messages"] or 0 for q in queues.values() if q["kind"] == "dead_letter")
    return Queues.model_validate(
        {"queues": queues, "dead_lettered": parked, "checked_at": timezone.now()}
    )
