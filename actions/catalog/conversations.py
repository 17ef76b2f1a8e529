"""Conversations: threads of messages with a lead, over one channel (user channel)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from actions.catalog._common import ListResult
from actions.contract.payloads import FreeText, ObjectId, Page, PageInfo, Payload, Result, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS

MessageChannel = Literal["email", "sms", "whatsapp", "internal"]
MessageBody = Annotated[FreeText, StringConstraints(min_length=1)]


class Message(Result):
    id: ObjectId
    conversation_id: ObjectId
    channel: MessageChannel
    direction: Literal["inbound", "outbound"]
    subject: ShortText | None  # email only
    body: MessageBody
    sender_id: ObjectId | None  # the member who sent it; None for inbound and automations
    status: Literal["queued", "sent", "delivered", "read", "failed", "received"]
    created_at: datetime
    sent_at: datetime | None


class ConversationQuery(Page):
    lead_id: ObjectId | None = None
    channel: MessageChannel | None = None
    status: Literal["open", "closed"] | None = None
    unread_only: bool = False


class Conversation(Result):
    id: ObjectId
    lead_id: ObjectId | None
    channel: MessageChannel
    subject: ShortText | None
    status: Literal["open", "closed"]
    unread_count: int = Field(ge=0)
    last_message_at: datetime | None
    created_at: datetime


class ConversationList(ListResult[Conversation]):
    pass


class ConversationGet(Payload):
    """Messages come newest first, a page at a time."""

    id: ObjectId
    message_limit: int = Field(default=50, ge=1, le=200)
    message_cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class ConversationDetail(Conversation):
    messages: list[Message] = Field(max_length=200)
    messages_page: PageInfo


dummy(  # TODO
    "conversations.list",
    channel="user",
    roles=MEMBERS,
    summary="List conversations, most recent message first.",
    input=ConversationQuery,
    output=ConversationList,
)
dummy(  # TODO
    "conversations.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a conversation with its messages.",
    input=ConversationGet,
    output=ConversationDetail,
)
