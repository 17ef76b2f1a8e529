"""`notifications.list`: List your notifications, newest first."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import ListResult, SubjectType
from actions.contract.payloads import FreeText, ObjectId, Page, Result, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

NotificationKind = Literal[
    "mention", "assignment", "message", "run_failed", "automation_failed", "invite", "system"
]


class NotificationQuery(Page):
    unread_only: bool = False
    kind: NotificationKind | None = None


class Notification(Result):
    id: ObjectId
    kind: NotificationKind
    title: ShortText
    body: FreeText | None
    subject_type: SubjectType | None  # what it is about, for the front end to link to
    subject_id: ObjectId | None
    read: bool
    created_at: datetime
    read_at: datetime | None


class NotificationList(ListResult[Notification]):
    unread_count: int = Field(ge=0)


dummy(  # TODO
    "notifications.list",
    channel="user",
    roles=MEMBERS,
    summary="List your notifications, newest first.",
    input=NotificationQuery,
    output=NotificationList,
)
