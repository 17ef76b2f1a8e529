"""`conversations.get`: Read a conversation with its messages."""

from typing import Annotated

from pydantic import Field, StringConstraints

from actions.catalog.conversations._models import Conversation, Message
from actions.contract.payloads import ObjectId, PageInfo, Payload
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class ConversationGet(Payload):
    """Messages come newest first, a page at a time."""

    id: ObjectId
    message_limit: int = Field(default=50, ge=1, le=200)
    message_cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class ConversationDetail(Conversation):
    messages: list[Message] = Field(max_length=200)
    messages_page: PageInfo


dummy(  # TODO
    "conversations.get",
    channel="user",
    roles=MEMBERS,
    summary="Read a conversation with its messages.",
    input=ConversationGet,
    output=ConversationDetail,
)
