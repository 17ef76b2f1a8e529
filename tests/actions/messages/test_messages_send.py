"""messages.send: through sms_http to a real local provider, stored in the lead's
conversation (more in tests/integration/test_connectors.py: not_subscribed over REST and
AMQP, timeouts, retries, replay)."""

import pytest
from django_tenants.utils import schema_context

from actions.models import Conversation, Message
from tests.providers import HttpProvider, subscribe_sms
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


@pytest.fixture
def provider():
    server = HttpProvider().start()
    yield server
    server.stop()


def test_a_reply_goes_to_the_same_conversation_and_number(api, provider):
    t = make_tenant("msg")
    subscribe_sms(t, provider, api)
    first = send(
        api,
        "messages.send",
        {"lead_id": "L1", "channel": "sms", "to": "+44 7700 900123", "body": "Hi"},
        tenant=t["slug"],
        user=t["member"],
    )
    assert first["status"] == "ok", first
    conversation_id = first["result"]["conversation_id"]
    reply = send(
        api,
        "messages.send",
        {"conversation_id": conversation_id, "channel": "sms", "body": "Still there?"},
        tenant=t["slug"],
        user=t["member"],
    )
    assert reply["result"]["conversation_id"] == conversation_id
    assert [s.json()["to"] for s in provider.seen] == ["+447700900123", "+447700900123"]
    with schema_context(t["slug"]):
        assert Conversation.objects.count() == 1
        assert list(Message.objects.order_by("id").values_list("status", flat=True)) == [
            "sent",
            "sent",
        ]


def test_only_sms_is_sent_today_and_a_new_thread_needs_a_number(api, provider):
    t = make_tenant("msgv")
    subscribe_sms(t, provider, api)
    email = send(
        api,
        "messages.send",
        {"lead_id": "L1", "channel": "email", "body": "Hi"},
        tenant=t["slug"],
        user=t["member"],
    )
    assert email["error"]["code"] == "validation_error"
    no_number = send(
        api,
        "messages.send",
        {"lead_id": "L1", "channel": "sms", "body": "Hi"},
        tenant=t["slug"],
        user=t["member"],
    )
    assert no_number["error"]["code"] == "validation_error" and provider.seen == []
