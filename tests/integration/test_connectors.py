"""Issue 10's acceptance, end to end through the REST gateway, the AMQP ingress, the
broker and real workers, against real local providers (tests/providers.py)."""

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context
from psycopg import sql

from actions.models import Conversation
from actions.models import Message as MessageRow
from audit.files import error_log_path
from connectors.crypto import kek_id, keyring
from connectors.models import ConnectorTrace, Credential
from tenants.tokens import token_issue_pair
from tests.conftest import ROOT, envelope
from tests.integration.test_amqp_e2e import AmqpClient
from tests.providers import HttpProvider, subscribe_sms
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


@pytest.fixture
def provider():
    server = HttpProvider().start()
    yield server
    server.stop()


def _sms(t, *, to="+447700900123", body="Your viewing is at 10:00"):
    return {"lead_id": "lead42", "channel": "sms", "to": to, "body": body}


def test_a_subscribed_tenants_message_reaches_the_provider_and_is_stored(api, provider):
    t = make_tenant("cxok")
    api_key = subscribe_sms(t, provider, api)
    body = send(api, "messages.send", _sms(t), tenant=t["slug"], user=t["member"])
    assert body["status"] == "ok", body
    assert body["result"]["status"] == "sent" and body["result"]["direction"] == "outbound"
    (seen,) = provider.seen
    assert seen.headers["Authorization"] == f"Bearer {api_key}"
    assert seen.json() == {
        "from": "Acme",
        "to": "+447700900123",
        "text": "Your viewing is at 10:00",
        "reference": body["id"],
    }
    with schema_context(t["slug"]):
        conversation = Conversation.objects.get()
        message = MessageRow.objects.get()
        trace = ConnectorTrace.objects.get()
    assert conversation.lead_id == "lead42" and message.conversation_id == conversation.id
    assert message.provider_message_id == "prov-1" and message.connector_trace_id == ""
    assert trace.outcome == "ok" and [s["step"] for s in trace.steps] == [
        "request", "outbound", "inbound", "response",
    ]  # fmt: skip
    assert api_key not in json.dumps(trace.steps) + json.dumps(trace.config)
    # the conversation is readable through conversations.list / get
    listed = send(
        api, "conversations.list", {"lead_id": "lead42"}, tenant=t["slug"], user=t["member"]
    )
    assert [c["id"] for c in listed["result"]["items"]] == [str(conversation.id)]
    got = send(
        api, "conversations.get", {"id": str(conversation.id)}, tenant=t["slug"], user=t["member"]
    )
    assert [m["body"] for m in got["result"]["messages"]] == ["Your viewing is at 10:00"]


def _whitelabel(t, text: str) -> None:
    tenant = t["tenant"]
    tenant.config = {"messages": {"not_subscribed": text}}
    tenant.save(update_fields=["config"])


def test_an_unsubscribed_tenant_gets_not_subscribed_with_its_own_text_over_rest(api, provider):
    t = make_tenant("cxno")
    _whitelabel(t, "Ask your Acme admin to switch on SMS.")
    body = send(api, "messages.send", _sms(t), tenant=t["slug"], user=t["member"])
    assert body["status"] == "error"
    error = body["error"]
    assert error["code"] == "not_subscribed" and error["retryable"] is False
    assert error["details"]["connector"] == "sms_http"
    assert error["user_message"] == "Ask your Acme admin to switch on SMS."
    assert provider.seen == []
    with schema_context(t["slug"]):  # refused at the edge: no record, nothing sent
        assert not MessageRow.objects.exists()


def test_an_unsubscribed_tenant_gets_not_subscribed_with_its_own_text_over_amqp(provider):
    t = make_tenant("cxnoq")
    _whitelabel(t, "SMS is not part of your plan.")
    client = AmqpClient(settings.BROKER_URL_CLIENT)
    try:
        token = token_issue_pair(user=t["member"])["access_token"]
        reply = client.call(envelope("messages.send", _sms(t), tenant=t["slug"]), token=token)
    finally:
        client.close()
    assert reply["status"] == "error"
    assert reply["error"]["code"] == "not_subscribed"
    assert reply["error"]["details"]["connector"] == "sms_http"
    assert reply["error"]["user_message"] == "SMS is not part of your plan."


def test_the_worker_checks_again_when_the_subscription_ended_in_the_queue(api, provider):
    from tests.tenancy import run_inline

    t = make_tenant("cxend")
    subscribe_sms(t, provider, api)
    tenant = t["tenant"]
    tenant.refresh_from_db()
    tenant.connector_subscriptions = {}
    tenant.save(update_fields=["connector_subscriptions"])
    record = run_inline("messages.send", _sms(t), schema=t["slug"], user=t["member"])
    assert record.error["code"] == "not_subscribed" and provider.seen == []


def _logged(trace_id: str) -> list[dict]:
    lines = error_log_path().read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("trace_id") == trace_id]


def test_a_provider_timeout_is_connector_error_after_the_retries_with_a_trace_and_a_log(
    api, provider
):
    t = make_tenant("cxslow")
    subscribe_sms(t, provider, api, timeout_s=0.3)
    provider.mode, provider.delay_s = "slow", 1.0
    body = send(api, "messages.send", _sms(t), tenant=t["slug"], user=t["member"])
    error = body["error"]
    assert error is not None, (body["status"], body["result"])
    assert error["code"] == "connector_error" and error["retryable"] is True
    attempts = settings.SWITCHBOARD["CONNECTOR_RETRY"]["attempts"]
    assert len(provider.seen) == attempts == error["details"]["attempts"]
    assert error["details"]["kind"] == "timeout"
    with schema_context(t["slug"]):
        trace = ConnectorTrace.objects.get(id=error["details"]["connector_trace_id"])
        message = MessageRow.objects.get()
    assert trace.outcome == "error" and len(trace.attempts) == attempts
    assert trace.error["kind"] == "timeout" and trace.trace_id == body["meta"]["trace_id"]
    assert message.status == "failed" and message.connector_trace_id == trace.id
    entries = _logged(body["meta"]["trace_id"])
    assert any(
        e["component"] == "connector.sms_http"
        and e["code"] == "connector_error"
        and e["details"]["connector_trace_id"] == trace.id
        for e in entries
    ), entries
    # an owner finds it with connectors.traces.list / get
    listed = send(
        api, "connectors.traces.list", {"outcome": "error"}, tenant=t["slug"], user=t["owner"]
    )
    assert [i["id"] for i in listed["result"]["items"]] == [trace.id]
    got = send(api, "connectors.traces.get", {"id": trace.id}, tenant=t["slug"], user=t["owner"])
    assert got["result"]["attempts"] == attempts and got["result"]["steps"][0]["step"] == "request"


@pytest.mark.parametrize(
    ("mode", "kind", "retryable", "tries"),
    [
        ("error400", "client_error", False, 1),
        ("error500", "server_error", True, 3),
        ("malformed", "malformed_answer", False, 1),
        ("wrong_shape", "malformed_answer", False, 1),
    ],
)
def test_provider_failures_set_retryable_rightly(api, provider, mode, kind, retryable, tries):
    t = make_tenant("cxfail")
    subscribe_sms(t, provider, api)
    provider.mode = mode
    body = send(api, "messages.send", _sms(t), tenant=t["slug"], user=t["member"])
    error = body["error"]
    assert error["code"] == "connector_error"
    assert (error["details"]["kind"], error["retryable"]) == (kind, retryable)
    assert len(provider.seen) == tries


def test_a_stored_trace_replays_and_shows_where_it_differs(api, provider):
    t = make_tenant("cxreplay")
    subscribe_sms(t, provider, api)
    body = send(api, "messages.send", _sms(t), tenant=t["slug"], user=t["member"])
    assert body["status"] == "ok", body
    with schema_context(t["slug"]):
        trace = ConnectorTrace.objects.get()

    def replay():
        return subprocess.run(
            [sys.executable, "manage.py", "connector_replay", trace.id, "--tenant", t["slug"]],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    same = replay()
    assert same.returncode == 0, same.stderr
    assert "outbound: same" in same.stdout and "response: same" in same.stdout
    # A stored step that no longer matches what the transformation makes is shown.
    steps = trace.steps
    steps[1]["data"]["text"] = "edited"
    with schema_context(t["slug"]):
        ConnectorTrace.objects.filter(id=trace.id).update(steps=steps)
    differs = replay()
    assert differs.returncode != 0
    assert "outbound: differs" in differs.stdout
    assert "/text: stored 'edited', replay 'Your viewing is at 10:00'" in differs.stdout


def test_raw_credential_rows_hold_no_plaintext_before_and_after_kek_rotation(api, provider):
    """The rotation rewraps every tenant's data keys; the workers (other processes) read
    the key ring from the key file, so they go on sending with the rotated credential."""
    t = make_tenant("cxkek")
    api_key = subscribe_sms(t, provider, api)

    def raw_rows() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("SELECT * FROM {}.connectors_credential").format(sql.Identifier(t["slug"]))
            )
            return cursor.fetchall()

    def assert_no_plaintext(rows):
        assert rows
        flat = b"".join(
            bytes(v) if isinstance(v, memoryview) else str(v).encode() for r in rows for v in r
        )
        assert api_key.encode() not in flat and b"sk-live" not in flat

    before = raw_rows()
    assert_no_plaintext(before)
    rotated = subprocess.run(
        [sys.executable, "manage.py", "credentials_rotate_kek"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    after = raw_rows()
    assert_no_plaintext(after)
    assert before != after
    with schema_context(t["slug"]):
        (row,) = Credential.objects.all()
    assert row.kek_id == kek_id(keyring().current)  # rewrapped by the new key
    body = send(api, "messages.send", _sms(t), tenant=t["slug"], user=t["member"])
    assert body["status"] == "ok", body
    assert provider.seen[-1].headers["Authorization"] == f"Bearer {api_key}"
