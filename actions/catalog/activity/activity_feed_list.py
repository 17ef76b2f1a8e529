"""`activity.feed.list`: List the tenant's activity feed, newest first."""

from datetime import datetime

from actions.catalog._common import ActionName, ListResult, SubjectType, TimeWindow
from actions.contract.payloads import JsonObject, ObjectId, Page, Result, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class FeedQuery(Page, TimeWindow):
    actor_id: ObjectId | None = None
    subject_type: SubjectType | None = None
    subject_id: ObjectId | None = None


class FeedItem(Result):
    id: ObjectId
    at: datetime
    actor_id: ObjectId | None  # None: the system
    actor_name: ShortText | None
    action: ActionName  # the action that did it, e.g. `leads.create`
    subject_type: SubjectType | None
    subject_id: ObjectId | None
    summary: ShortText  # one line for people, e.g. "Ana created the lead Bob Smith"
    metadata: JsonObject


class FeedList(ListResult[FeedItem]):
    pass


dummy(  # TODO
    "activity.feed.list",
    channel="user",
    roles=MEMBERS,
    summary="List the tenant's activity feed, newest first.",
    input=FeedQuery,
    output=FeedList,
)
