"""`notifications.mark_read`: Mark some of your notifications read."""

from pydantic import Field

from actions.catalog._common import IdList
from actions.contract.payloads import Payload, Result
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class MarkRead(Payload):
    ids: IdList


class MarkedRead(Result):
    updated: int = Field(ge=0)  # ids not yours, or already read, are skipped
    unread_count: int = Field(ge=0)


dummy(  # TODO
    "notifications.mark_read",
    channel="user",
    roles=MEMBERS,
    summary="Mark some of your notifications read.",
    input=MarkRead,
    output=MarkedRead,
)
