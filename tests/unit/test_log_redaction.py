"""Secrets never reach a log: the tenant action log, the central error log, Sentry."""

import json
import uuid
from types import SimpleNamespace

import pytest
import sentry_sdk
from django.utils import timezone

from actions import audit_trail
from audit import files, sentry

SECRET = "hunter2-very-secret"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"


@pytest.fixture
def logs(settings, tmp_path):
    settings.SWITCHBOARD_LOGS_DIR = str(tmp_path)
    return tmp_path


def _every_log_text(root) -> str:
    return "\n".join(p.read_text() for p in root.rglob("*.jsonl"))


def _record(**kw):
    base = {
        "id": uuid.uuid4(),
        "action": "auth.login",
        "version": 1,
        "channel": "user",
        "transport": "rest",
        "actor_email": "",
        "status": "ok",
        "error": None,
        "result": {"access_token": JWT, "refresh_token": SECRET, "email": "a@b.test"},
        "payload": {"email": "owner@acme.test", "password": SECRET},
        "finished_at": timezone.now(),
        "duration_ms": 3,
        "trace_id": "abc",
    }
    return SimpleNamespace(**{**base, **kw})


def test_the_tenant_log_keeps_shapes_and_redacts_secrets(logs):
    record = _record()
    audit_trail.action_log_write(tenant="acme", record=record)
    (line,) = files.tenant_log_path("acme").read_text().splitlines()
    entry = json.loads(line)
    assert entry["message_id"] == str(record.id) and entry["status"] == "ok"
    assert entry["request"] == {"email": "str:15", "password": "[redacted]"}
    assert entry["response"]["access_token"] == "[redacted]"
    assert entry["response"]["email"] == "str:8"  # sizes only: no values at all
    assert SECRET not in line and JWT not in line and "owner@acme.test" not in line


def test_a_field_the_index_marks_secret_is_redacted_whatever_its_name(logs):
    # credentials.create marks `data` x-secret in the index; no always-secret name covers it.
    record = _record(
        action="credentials.create",
        payload={"workspace_id": "w1", "provider": "smtp", "name": "m", "data": {"pw": SECRET}},
        result=None,
        status="error",
        error={"code": "not_implemented", "message": "to be implemented"},
    )
    audit_trail.action_log_write(tenant="acme", record=record)
    entry = json.loads(files.tenant_log_path("acme").read_text())
    assert entry["request"]["data"] == "[redacted]"
    assert entry["request"]["name"] == "str:1"
    assert entry["code"] == "not_implemented"


def test_the_error_log_scrubs_messages_details_and_stacks(logs):
    try:
        raise RuntimeError(f"login failed with password={SECRET} and Bearer {JWT}")
    except RuntimeError:
        audit_trail.error_record(
            component="worker",
            trace_id="t-redact",
            code="internal_error",
            message=f"token={SECRET}",
            details={"password": SECRET, "nested": {"api_key": SECRET}, "note": f"Bearer {JWT}"},
            exc_info=True,
        )
    text = _every_log_text(logs)
    entry = json.loads(text.splitlines()[-1])
    assert entry["exception_type"] == "builtins.RuntimeError"
    assert "Traceback" in entry["stack"]
    assert SECRET not in text and JWT not in text


def test_security_events_and_refusals_carry_no_values(logs):
    audit_trail.security_event(
        category="sql_injection",
        path="payload/name",
        tenant="acme",
        actor=None,
        action="leads.create",
        source="rest",
        code="rejected_input",
    )
    audit_trail.action_log_refusal(
        request={
            "id": str(uuid.uuid4()),
            "tenant": "acme",
            "action": "auth.login",
            "payload": {"email": "x@y.test", "password": SECRET},
        },
        code="validation_error",
        message="bad",
        trace_id="t-refusal",
        channel="user",
        transport="rest",
    )
    text = _every_log_text(logs)
    assert "t-refusal" in text and SECRET not in text


def test_sentry_scrubber_redacts_secret_keys_and_token_text():
    event = {
        "request": {
            "headers": {"Authorization": f"Bearer {JWT}", "Cookie": "sessionid=1"},
            "data": {"password": SECRET, "name": "Ann"},
        },
        "exception": {"values": [{"value": f"boom password={SECRET}"}]},
        "extra": {"client_secret": SECRET},
    }
    scrubbed = sentry.before_send(event, {})
    text = json.dumps(scrubbed)
    assert SECRET not in text and JWT not in text
    assert scrubbed["request"]["data"]["name"] == "Ann"
    assert scrubbed["request"]["headers"]["Authorization"] == "[redacted]"


def test_without_a_dsn_sentry_is_not_initialised_and_errors_still_log(logs, settings):
    settings.SENTRY_DSN = ""
    assert sentry.init_from_settings() is False
    assert not sentry.active()
    assert not sentry_sdk.get_client().is_active()
    audit_trail.error_record(
        component="worker", trace_id="t-nodsn", code="internal_error", message="m"
    )
    assert "t-nodsn" in _every_log_text(logs)


def test_a_summary_keeps_no_unprintable_key():
    from audit.summaries import shape

    summary = shape({"a\x00b": 1, "c\nd": {"e\u2028": "x"}})
    assert summary == {"a?b": "int", "c?d": {"e?": "str:1"}}
