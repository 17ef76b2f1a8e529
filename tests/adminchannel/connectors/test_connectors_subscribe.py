"""connectors.subscribe: the config is checked against the connector's schema and the
credential it names; the subscription is the tenant's own."""

import pytest

from tests.providers import add_credential
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def _subscribe(api, t, connector, config, user=None):
    return send(
        api, "connectors.subscribe", {"connector": connector, "config": config},
        tenant=t["slug"], user=user or t["owner"],
    )  # fmt: skip


def test_an_owner_subscribes_with_a_valid_config_for_this_tenant_only(api):
    t = make_tenant("cxs")
    other = make_tenant("cxs")
    credential_id = add_credential(t, "sms_http", {"api_key": "k"}, api)
    config = {"url": "https://sms.example.com/v1", "sender": "Acme", "credential_id": credential_id}
    body = _subscribe(api, t, "sms_http", config)
    assert body["result"]["subscribed"] and body["result"]["config"]["sender"] == "Acme"
    t["tenant"].refresh_from_db()
    assert set(t["tenant"].connector_subscriptions) == {"sms_http"}
    other["tenant"].refresh_from_db()
    assert other["tenant"].connector_subscriptions == {}


def test_a_config_that_does_not_fit_or_names_no_credential_is_refused(api):
    t = make_tenant("cxsv")
    bad = _subscribe(api, t, "sms_http", {"url": "https://sms.example.com/v1"})
    assert bad["error"]["code"] == "validation_error"
    assert any(e["path"] == "payload/config/sender" for e in bad["error"]["details"]["errors"])
    nothing = _subscribe(
        api,
        t,
        "sms_http",
        {"url": "https://sms.example.com/v1", "sender": "A", "credential_id": "nope"},
    )
    assert nothing["error"]["code"] == "validation_error"
    unknown = _subscribe(api, t, "fax", {})
    assert unknown["error"]["code"] == "not_found"
    member = _subscribe(api, t, "http_webhook", {"url": "https://h.example.com"}, user=t["member"])
    assert member["error"]["code"] == "forbidden"
