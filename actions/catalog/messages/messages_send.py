"""`messages.send`: Send a message to a lead and record it in the conversation."""

import re

from django.db import transaction
from django.utils import timezone
from pydantic import model_validator

from actions.catalog._common import Phone
from actions.catalog.conversations._models import (
    Message,
    MessageBody,
    MessageChannel,
    conversation_touch,
    message_result,
)
from actions.contract.errors import ActionError, ErrorCode
from actions.contract.payloads import ObjectId, Payload, ShortText
from actions.contract.registry import action, non_atomic
from actions.models import Conversation
from actions.models import Message as MessageRow
from config.cursors import number
from tenants.roles import MEMBERS

# The channels that are sent today, each through its connector (listed in the index).
SENT_THROUGH = {"sms": "sms_http"}


class MessageSend(Payload):
    """Exactly one of `conversation_id` (reply in a thread) or `lead_id` (new or open
    thread). Only `sms` is sent today (connector `sms_http`); `to` is the number, needed
    for a new thread (leads hold no contact data yet), taken from the thread otherwise."""

    conversation_id: ObjectId | None = None
    lead_id: ObjectId | None = None
    channel: MessageChannel
    subject: ShortText | None = None  # email only
    body: MessageBody
    to: Phone | None = None

    @model_validator(mode="after")
    def _one_recipient(self):
        if (self.conversation_id is None) == (self.lead_id is None):
            raise ValueError("give exactly one of `conversation_id` or `lead_id`")
        if self.channel not in SENT_THROUGH:
            raise ValueError(f"only {', '.join(SENT_THROUGH)} messages are sent today")
        return self


@action(
    "messages.send",
    channel="user",
    roles=MEMBERS,
    summary="Send a message to a lead and record it in the conversation.",
    input=MessageSend,
    output=Message,
    connectors=tuple(SENT_THROUGH.values()),
)
@non_atomic  # the message is stored before the provider is called, and its outcome after
def messages_send(ctx, payload: MessageSend) -> Message:
    row = _store(ctx, payload)
    if row.status == "sent":  # this message ran before (a redelivery): sent once only
        return message_result(row)
    connector = SENT_THROUGH[payload.channel]
    try:
        number = re.sub(r"[ ().-]", "", row.to)  # the provider takes digits only
        answer = ctx.connectors.call(connector, {"to": number, "text": row.body})
    except ActionError as err:
        row.status = "failed"
        row.connector_trace_id = str(err.details.get("connector_trace_id", ""))
        row.save(update_fields=["status", "connector_trace_id"])
        raise
    row.status, row.sent_at = "sent", timezone.now()
    row.provider_message_id = answer.provider_message_id
    row.save(update_fields=["status", "sent_at", "provider_message_id"])
    return message_result(row)


def _store(ctx, payload: MessageSend) -> MessageRow:
    """The outbound message in its conversation (found or opened), status `queued`."""
    with transaction.atomic():
        existing = MessageRow.objects.filter(message_id=ctx.message_id).first()
        if existing is not None:
            return existing
        if payload.conversation_id is not None:
            conversation = (
                Conversation.objects.select_for_update()
                .filter(id=_int(payload.conversation_id))
                .first()
            )
            if conversation is None or conversation.channel != payload.channel:
                raise ActionError(
                    ErrorCode.NOT_FOUND,
                    "No such conversation on this channel.",
                    details={"id": payload.conversation_id},
                )
        else:
            conversation, _ = Conversation.objects.select_for_update().get_or_create(
                lead_id=payload.lead_id, channel=payload.channel, status="open"
            )
        to = payload.to or _last_to(conversation)
        if not to:
            raise ActionError(
                ErrorCode.VALIDATION_ERROR,
                "Give `to`: this conversation has no number yet.",
                details={"errors": [{"path": "payload/to", "reason": "required here"}]},
            )
        row = MessageRow.objects.create(
            conversation=conversation,
            channel=payload.channel,
            direction="outbound",
            subject=payload.subject or "",
            body=payload.body,
            to=to,
            sender_id=ctx.actor.id if ctx.actor else None,
            status="queued",
            message_id=ctx.message_id,
        )
        conversation_touch(conversation, row)
    return row


def _last_to(conversation: Conversation) -> str:
    last = conversation.messages.exclude(to="").order_by("-id").first()
    return last.to if last else ""


def _int(value: str) -> int:
    found = number(value)
    return -1 if found is None else found
