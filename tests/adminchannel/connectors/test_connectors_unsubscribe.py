"""connectors.unsubscribe: the subscription ends, and the actions that need it answer
not_subscribed again."""

import pytest

from tests.providers import subscribe
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_after_unsubscribing_the_gate_answers_not_subscribed(api):
    t = make_tenant("cxu")
    subscribe(t, "http_webhook", {"url": "https://hooks.example.com/in"}, api)
    body = send(
        api,
        "connectors.unsubscribe",
        {"connector": "http_webhook"},
        tenant=t["slug"],
        user=t["owner"],
    )
    assert body["result"]["subscribed"] is False and body["result"]["subscribed_at"] is None
    t["tenant"].refresh_from_db()
    assert t["tenant"].connector_subscriptions == {}
    sms = send(
        api,
        "messages.send",
        {"lead_id": "L", "channel": "sms", "to": "+447700900123", "body": "x"},
        tenant=t["slug"],
        user=t["member"],
    )
    assert sms["error"]["code"] == "not_subscribed"
