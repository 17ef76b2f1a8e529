"""conversations.list: the tenant's conversations, most recent message first."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from actions.models import Conversation
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_conversations_come_most_recent_first_filtered_and_paged(api):
    t = make_tenant("conv")
    now = timezone.now()
    with schema_context(t["slug"]):
        old = Conversation.objects.create(
            lead_id="A", channel="sms", last_message_at=now - timezone.timedelta(hours=1)
        )
        new = Conversation.objects.create(lead_id="B", channel="sms", last_message_at=now)
        Conversation.objects.create(lead_id="A", channel="email", status="closed")
    body = send(api, "conversations.list", {"channel": "sms"}, tenant=t["slug"], user=t["member"])
    assert [c["id"] for c in body["result"]["items"]] == [str(new.id), str(old.id)]
    first = send(api, "conversations.list", {"limit": 1}, tenant=t["slug"], user=t["member"])
    assert first["result"]["items"][0]["id"] == str(new.id)
    cursor = first["result"]["page"]["next_cursor"]
    second = send(
        api,
        "conversations.list",
        {"limit": 1, "cursor": cursor},
        tenant=t["slug"],
        user=t["member"],
    )
    assert second["result"]["items"][0]["id"] == str(old.id)
    closed = send(
        api, "conversations.list", {"status": "closed"}, tenant=t["slug"], user=t["member"]
    )
    assert [c["lead_id"] for c in closed["result"]["items"]] == ["A"]


def test_a_cursor_we_never_gave_is_refused_not_an_internal_error(api):
    t = make_tenant("conv")
    for cursor in ("\u00b2", "9" * 40):
        body = send(
            api, "conversations.list", {"cursor": cursor}, tenant=t["slug"], user=t["member"]
        )
        assert body["error"]["code"] == "validation_error", (cursor, body)
