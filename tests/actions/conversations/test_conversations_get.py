"""conversations.get: a conversation with its messages, newest first, a page at a time."""

import pytest
from django_tenants.utils import schema_context

from actions.models import Conversation, Message
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_messages_come_newest_first_a_page_at_a_time(api):
    t = make_tenant("convg")
    with schema_context(t["slug"]):
        conversation = Conversation.objects.create(lead_id="A", channel="sms")
        for n in range(3):
            Message.objects.create(
                conversation=conversation,
                channel="sms",
                direction="outbound",
                body=f"m{n}",
                status="sent",
            )
    payload = {"id": str(conversation.id), "message_limit": 2}
    body = send(api, "conversations.get", payload, tenant=t["slug"], user=t["member"])
    assert [m["body"] for m in body["result"]["messages"]] == ["m2", "m1"]
    cursor = body["result"]["messages_page"]["next_cursor"]
    rest = send(
        api,
        "conversations.get",
        {**payload, "message_cursor": cursor},
        tenant=t["slug"],
        user=t["member"],
    )
    assert [m["body"] for m in rest["result"]["messages"]] == ["m0"]
    assert rest["result"]["messages_page"]["next_cursor"] is None
    other = make_tenant("convg")
    missing = send(
        api,
        "conversations.get",
        {"id": str(conversation.id)},
        tenant=other["slug"],
        user=other["member"],
    )
    assert missing["error"]["code"] == "not_found"


def test_a_cursor_or_id_we_never_gave_is_refused_not_an_internal_error(api):
    t = make_tenant("convg")
    with schema_context(t["slug"]):
        conversation = Conversation.objects.create(lead_id="A", channel="sms")
    for cursor in ("\u00b2", "9" * 40, "1_0"):  # isdigit() passed the first; int() the others
        body = send(
            api,
            "conversations.get",
            {"id": str(conversation.id), "message_cursor": cursor},
            tenant=t["slug"],
            user=t["member"],
        )
        assert body["error"]["code"] == "validation_error", (cursor, body)
    body = send(api, "conversations.get", {"id": "9" * 40}, tenant=t["slug"], user=t["member"])
    assert body["error"]["code"] == "not_found", body  # not a bigint overflow in the query
