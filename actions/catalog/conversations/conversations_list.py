"""`conversations.list`: List conversations, most recent message first."""

from typing import Literal

from actions.catalog._common import ListResult
from actions.catalog.conversations._models import Conversation, MessageChannel
from actions.contract.payloads import ObjectId, Page
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class ConversationQuery(Page):
    lead_id: ObjectId | None = None
    channel: MessageChannel | None = None
    status: Literal["open", "closed"] | None = None
    unread_only: bool = False


class ConversationList(ListResult[Conversation]):
    pass


dummy(  # TODO
    "conversations.list",
    channel="user",
    roles=MEMBERS,
    summary="List conversations, most recent message first.",
    input=ConversationQuery,
    output=ConversationList,
)
