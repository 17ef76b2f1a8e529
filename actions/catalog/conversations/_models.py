"""Conversations: threads of messages with a lead, over one channel (user channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from actions.contract.payloads import FreeText, ObjectId, Result, ShortText

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


class Conversation(Result):
    id: ObjectId
    lead_id: ObjectId | None
    channel: MessageChannel
    subject: ShortText | None
    status: Literal["open", "closed"]
    unread_count: int = Field(ge=0)
    last_message_at: datetime | None
    created_at: datetime
