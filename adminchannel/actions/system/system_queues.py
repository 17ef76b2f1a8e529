"""`system.queues`: Each queue's depth, consumers and the age of its oldest waiting message
(adminchannel/monitoring.py, `queue_inspect`)."""

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from actions.catalog._common import ChannelName
from actions.contract.payloads import Empty, Result, ShortText
from actions.contract.registry import action
from adminchannel.actions.system._models import QueueName
from tenants.roles import DEVELOPERS


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
