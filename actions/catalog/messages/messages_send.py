"""`messages.send`: Send a message to a lead and record it in the conversation."""

from pydantic import model_validator

from actions.catalog.conversations._models import Message, MessageBody, MessageChannel
from actions.contract.payloads import ObjectId, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class MessageSend(Payload):
    """Exactly one of `conversation_id` (reply in a thread) or `lead_id` (new or open thread)."""

    conversation_id: ObjectId | None = None
    lead_id: ObjectId | None = None
    channel: MessageChannel
    subject: ShortText | None = None  # email only
    body: MessageBody

    @model_validator(mode="after")
    def _one_recipient(self):
        if (self.conversation_id is None) == (self.lead_id is None):
            raise ValueError("give exactly one of `conversation_id` or `lead_id`")
        return self


dummy(  # TODO
    "messages.send",
    channel="user",
    roles=MEMBERS,
    summary="Send a message to a lead and record it in the conversation.",
    input=MessageSend,
    output=Message,
)
