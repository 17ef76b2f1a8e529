"""Every component's errors reach the central error log, found by the trace id the
client was given. The failures are provoked in this process (an action replaced by one
that raises, a transport whose next step raises); the database and files are real."""

import dataclasses
import json
from types import SimpleNamespace

import pytest
from django_tenants.utils import schema_context

from actions.contract.errors import ActionError, ErrorCode
from actions.contract.registry import registry
from actions.delivery import outbox
from actions.edge import ingress
from actions.models import ActionRecord
from actions.outcomes import outcome_for
from actions.worker import executor, tasks
from audit import files as audit
from release.states import State
from tests.conftest import envelope
from tests.records import stored


def logged(trace_id: str) -> dict:
    """The central error log's entry for `trace_id` (the newest, if several)."""
    for line in reversed(audit.error_log_path().read_text().splitlines()):
        entry = json.loads(line)
        if entry["trace_id"] == trace_id:
            return entry
    raise AssertionError(f"trace id {trace_id} is not in the central error log")


def test_a_gateway_refusal_is_logged_with_the_trace_id_it_answered(client):
    env = envelope("leads.list", tenant="acme")
    response = client.post("/api/v1/actions", data=json.dumps(env), content_type="application/json")
    body = response.json()
    entry = logged(body["meta"]["trace_id"])
    assert (entry["source"], entry["component"]) == ("api", "gateway.rest")
    assert (entry["code"], entry["tenant"], entry["message_id"]) == (
        "unauthenticated",
        "acme",
        env["id"],
    )


def test_a_rest_gateway_bug_is_internal_error_with_a_trace_id_that_finds_the_stack(
    client, monkeypatch
):
    def broken(ingress):
        raise RuntimeError("gateway bug")

    monkeypatch.setattr("actions.edge.gateway.submit", broken)
    client.raise_request_exception = False
    response = client.post(
        "/api/v1/actions", data=json.dumps(envelope("leads.list")), content_type="application/json"
    )
    body = response.json()
    assert response.status_code == 500 and body["error"]["code"] == "internal_error"
    assert "Traceback" not in json.dumps(body)
    entry = logged(body["meta"]["trace_id"])
    assert entry["component"] == "gateway.rest" and entry["code"] == "internal_error"
    assert entry["exception_type"] == "builtins.RuntimeError"
    assert "gateway bug" in entry["stack"]


def test_an_amqp_gateway_bug_is_logged_with_the_trace_id_it_replied(monkeypatch):
    replies = []

    def broken(ingress):
        raise RuntimeError("ingress bug")

    monkeypatch.setattr("actions.edge.ingress.submit", broken)
    monkeypatch.setattr("actions.edge.ingress.reply", lambda **kw: replies.append(kw))
    # What the broker makes of `amq.rabbitmq.reply-to` (direct reply-to) for the ingress.
    address = "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAyNjk1NjUzMgAAAAAAAAAx.Qtcd"
    properties = SimpleNamespace(reply_to=address, correlation_id="c1", headers={})
    body = json.dumps(envelope("leads.list")).encode()
    ingress.handle("user", body, properties, "leads.list")
    (reply,) = replies
    trace_id = reply["envelope"]["meta"]["trace_id"]
    entry = logged(trace_id)
    assert entry["component"] == "gateway.amqp" and "ingress bug" in entry["stack"]


def _run_replaced(monkeypatch, handler) -> dict:
    """Run a leads.list record on this process's executor with `handler` as the action."""
    spec = registry.get("leads.list")
    monkeypatch.setitem(
        registry._entries,
        spec.key,
        dataclasses.replace(spec, handler=handler, state=State.UNDER_DEV),
    )
    record_id = str(stored("acme", "leads.list", version=spec.version).id)
    executor.execute(channel="user", schema="acme", record_id=record_id, worker="test")
    with schema_context("acme"):
        record = ActionRecord.objects.get(id=record_id)
    return outcome_for(record, {"tenant": "acme"}, schema="acme").envelope


def test_a_worker_bug_is_internal_error_and_its_trace_id_finds_the_stack(monkeypatch):
    def bug(ctx, payload):
        raise ZeroDivisionError("action bug")

    env = _run_replaced(monkeypatch, bug)
    assert env["error"]["code"] == "internal_error"
    assert env["meta"]["trace_id"] in env["error"]["message"]
    entry = logged(env["meta"]["trace_id"])
    assert (entry["source"], entry["tenant"], entry["action"]) == ("worker", "acme", "leads.list")
    assert entry["actor"] == "member@acme.test" and entry["message_id"] == env["id"]
    assert entry["exception_type"] == "builtins.ZeroDivisionError"
    assert "action bug" in entry["stack"]


def test_a_connector_failure_is_logged_under_the_connector(monkeypatch):
    def outside_system_down(ctx, payload):
        raise ActionError(ErrorCode.CONNECTOR_ERROR, "smtp: connection refused")

    env = _run_replaced(monkeypatch, outside_system_down)
    assert env["error"]["code"] == "connector_error"
    entry = logged(env["meta"]["trace_id"])
    assert entry["source"] == "connector" and entry["message"] == "smtp: connection refused"


def test_a_failing_maintenance_task_is_logged_as_beat(monkeypatch):
    def broken():
        raise OSError("broker gone")

    monkeypatch.setattr(outbox, "sweep", broken)
    result = tasks.outbox_sweep.apply()
    assert result.failed()
    entry = logged(result.id)
    assert entry["source"] == "beat" and entry["action"] == "switchboard.maintenance.outbox_sweep"
    assert entry["exception_type"] == "builtins.OSError" and "broker gone" in entry["stack"]


@pytest.fixture(autouse=True)
def _audit_tasks_loaded():
    import audit.tasks  # noqa: F401  (connects the task_failure handler, as the worker does)
