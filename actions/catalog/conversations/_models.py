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


def message_result(row) -> Message:
    """An actions.models.Message as the API shows it."""
    return Message(
        id=str(row.id),
        conversation_id=str(row.conversation_id),
        channel=row.channel,
        direction=row.direction,
        subject=row.subject or None,
        body=row.body,
        sender_id=str(row.sender_id) if row.sender_id is not None else None,
        status=row.status,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def conversation_fields(row) -> dict:
    """An actions.models.Conversation's fields as the API shows them."""
    return {
        "id": str(row.id),
        "lead_id": row.lead_id or None,
        "channel": row.channel,
        "subject": row.subject or None,
        "status": row.status,
        "unread_count": row.unread_count,
        "last_message_at": row.last_message_at,
        "created_at": row.created_at,
    }


def conversation_touch(conversation, message) -> None:
    """A new message in `conversation`: it is the latest."""
    conversation.last_message_at = message.created_at
    conversation.save(update_fields=["last_message_at"])
