"""`http_webhook` and `smtp_email` against real local servers (tests/providers.py), called
through the gateway a worker gives a handler (no action lists them yet)."""

import hashlib
import hmac
import uuid
from types import SimpleNamespace

import pytest
from django_tenants.utils import schema_context

from actions.contract.errors import ActionError
from connectors.credentials import credential_create
from connectors.models import ConnectorTrace
from connectors.runtime import Gateway
from tests.providers import HttpProvider, SmtpServer
from tests.tenancy import make_tenant


@pytest.fixture
def receiver():
    server = HttpProvider().start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _gateway(t, connector: str, config: dict) -> Gateway:
    tenant = t["tenant"]
    tenant.connector_subscriptions = {connector: {"subscribed_at": "2026-01-01", "config": config}}
    tenant.save(update_fields=["connector_subscriptions"])
    ctx = SimpleNamespace(
        tenant=t["slug"],
        action="tests.connector",
        message_id=str(uuid.uuid4()),
        trace_id=uuid.uuid4().hex,
    )
    return Gateway(ctx=ctx, tenant=tenant, allowed=(connector,))


def test_a_webhook_is_posted_signed_and_traced_without_its_secret(receiver):
    t = make_tenant("cxhook")
    with schema_context(t["slug"]):
        secret = credential_create(
            workspace_id="ws",
            provider="http_webhook",
            name="hook",
            data={"signing_secret": "whsec-9f"},
        )
        gateway = _gateway(t, "http_webhook", {"url": receiver.url, "credential_id": secret.id})
        answer = gateway.call("http_webhook", {"event": "lead.created", "data": {"lead": 7}})
        trace = ConnectorTrace.objects.get()
    assert answer.delivered and answer.status == 200
    (seen,) = receiver.seen
    timestamp = seen.headers["X-Switchboard-Timestamp"]
    expected = hmac.new(b"whsec-9f", timestamp.encode() + b"." + seen.body, hashlib.sha256)
    assert seen.headers["X-Switchboard-Signature"] == "sha256=" + expected.hexdigest()
    assert seen.json() == {
        "id": gateway.ctx.message_id,
        "event": "lead.created",
        "data": {"lead": 7},
    }
    assert "whsec-9f" not in str(trace.steps) + str(trace.config)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data", "http://localhost/x"],
)
def test_a_webhook_to_an_internal_address_is_refused_before_anything_is_sent(url):
    t = make_tenant("cxssrf")
    with schema_context(t["slug"]):
        gateway = _gateway(t, "http_webhook", {"url": url})
        with pytest.raises(ActionError) as refused:
            gateway.call("http_webhook", {"event": "x"})
        trace = ConnectorTrace.objects.get()
    assert refused.value.code == "connector_error"
    assert (
        refused.value.details["kind"] == "refused"
        and refused.value.as_error()["retryable"] is False
    )
    assert trace.attempts[0]["error"] == "refused" and len(trace.attempts) == 1


def test_a_connector_the_action_does_not_list_cannot_be_called(receiver):
    t = make_tenant("cxlist")
    with schema_context(t["slug"]):
        gateway = _gateway(t, "http_webhook", {"url": receiver.url})
        gateway.allowed = ()
        with pytest.raises(RuntimeError, match="does not list it"):
            gateway.call("http_webhook", {"event": "x"})
    assert receiver.seen == []


def test_an_email_goes_through_the_tenants_smtp_server(smtp):
    t = make_tenant("cxmail")
    with schema_context(t["slug"]):
        gateway = _gateway(
            t,
            "smtp_email",
            {
                "host": "127.0.0.2",
                "port": smtp.port,
                "starttls": False,
                "from_address": "crm@acme.example",
            },
        )
        answer = gateway.call(
            "smtp_email", {"to": "lead@example.com", "subject": "Viewing", "body": "See you at 10."}
        )
    assert answer.accepted
    (mail,) = smtp.mailbox.messages
    assert mail["from"] == "crm@acme.example" and mail["to"] == ["lead@example.com"]
    assert b"Subject: Viewing" in mail["data"] and b"See you at 10." in mail["data"]


def test_an_unreachable_smtp_server_is_a_retryable_connector_error():
    t = make_tenant("cxmailx")
    from tests.providers import _free_port

    with schema_context(t["slug"]):
        gateway = _gateway(
            t,
            "smtp_email",
            {
                "host": "127.0.0.2",
                "port": _free_port(),
                "starttls": False,
                "from_address": "a@acme.example",
            },
        )
        with pytest.raises(ActionError) as failed:
            gateway.call("smtp_email", {"to": "lead@example.com", "subject": "s", "body": "b"})
    assert (
        failed.value.details["kind"] == "unreachable"
        and failed.value.as_error()["retryable"] is True
    )
    assert failed.value.details["attempts"] == 3
