"""`conversations.list`: List conversations, most recent message first."""

from typing import Literal

from django.db.models import F

from actions.catalog._common import ListResult
from actions.catalog.conversations._models import Conversation, MessageChannel, conversation_fields
from actions.contract.errors import ActionError, ErrorCode
from actions.contract.payloads import ObjectId, Page, PageInfo
from actions.contract.registry import action
from actions.models import Conversation as ConversationRow
from config.cursors import number
from tenants.roles import MEMBERS


class ConversationQuery(Page):
    lead_id: ObjectId | None = None
    channel: MessageChannel | None = None
    status: Literal["open", "closed"] | None = None
    unread_only: bool = False


class ConversationList(ListResult[Conversation]):
    pass


@action(
    "conversations.list",
    channel="user",
    roles=MEMBERS,
    summary="List conversations, most recent message first.",
    input=ConversationQuery,
    output=ConversationList,
)
def conversations_list(ctx, payload: ConversationQuery) -> ConversationList:
    query = ConversationRow.objects.order_by(F("last_message_at").desc(nulls_last=True), "-id")
    if payload.lead_id is not None:
        query = query.filter(lead_id=payload.lead_id)
    if payload.channel is not None:
        query = query.filter(channel=payload.channel)
    if payload.status is not None:
        query = query.filter(status=payload.status)
    if payload.unread_only:
        query = query.filter(unread_count__gt=0)
    start = _offset(payload.cursor)
    rows = list(query[start : start + payload.limit + 1])
    more = len(rows) > payload.limit
    return ConversationList(
        items=[Conversation(**conversation_fields(r)) for r in rows[: payload.limit]],
        page=PageInfo(next_cursor=str(start + payload.limit) if more else None),
    )


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    offset = number(cursor)
    if offset is None:
        raise ActionError(
            ErrorCode.VALIDATION_ERROR,
            "The cursor is not one this list gave.",
            details={"errors": [{"path": "payload/cursor", "reason": "unknown cursor"}]},
        )
    return offset
