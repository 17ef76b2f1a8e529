"""`conversations.get`: Read a conversation with its messages."""

from typing import Annotated

from pydantic import Field, StringConstraints

from actions.catalog.conversations._models import (
    Conversation,
    Message,
    conversation_fields,
    message_result,
)
from actions.contract.errors import ActionError, ErrorCode
from actions.contract.payloads import ObjectId, PageInfo, Payload
from actions.contract.registry import action
from actions.models import Conversation as ConversationRow
from config.cursors import number
from tenants.roles import MEMBERS


class ConversationGet(Payload):
    """Messages come newest first, a page at a time."""

    id: ObjectId
    message_limit: int = Field(default=50, ge=1, le=200)
    message_cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class ConversationDetail(Conversation):
    messages: list[Message] = Field(max_length=200)
    messages_page: PageInfo


@action(
    "conversations.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a conversation with its messages.",
    input=ConversationGet,
    output=ConversationDetail,
)
def conversations_get(ctx, payload: ConversationGet) -> ConversationDetail:
    row = ConversationRow.objects.filter(id=number(payload.id) or -1).first()
    if row is None:
        raise ActionError(ErrorCode.NOT_FOUND, "No such conversation.", details={"id": payload.id})
    messages = row.messages.order_by("-id")
    cursor = payload.message_cursor
    if cursor is not None:  # the id of the last message of the previous page
        last = number(cursor)
        if last is None:
            raise ActionError(
                ErrorCode.VALIDATION_ERROR,
                "The cursor is not one this conversation gave.",
                details={
                    "errors": [{"path": "payload/message_cursor", "reason": "unknown cursor"}]
                },
            )
        messages = messages.filter(id__lt=last)
    page = list(messages[: payload.message_limit + 1])
    more = len(page) > payload.message_limit
    page = page[: payload.message_limit]
    return ConversationDetail(
        **conversation_fields(row),
        messages=[message_result(m) for m in page],
        messages_page=PageInfo(next_cursor=str(page[-1].id) if more else None),
    )
