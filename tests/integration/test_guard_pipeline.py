"""The guard and the rate limits inside the real pipeline: answers, security events,
Redis outages. Real PostgreSQL, RabbitMQ and Redis; no workers needed."""

import json
import uuid

import pytest

from actions import pipeline, ratelimit
from actions.pipeline import Ingress
from actions.registry import Channel
from tests.conftest import envelope
from tests.envelopes import assert_envelope


@pytest.fixture
def events(monkeypatch):
    """Every security event the pipeline writes (still written through to audit)."""
    seen = []
    original = pipeline.audit.security_event

    def record(**kwargs):
        seen.append(kwargs)
        original(**kwargs)

    monkeypatch.setattr(pipeline.audit, "security_event", record)
    return seen


@pytest.fixture
def low_limits(settings):
    settings.SWITCHBOARD = {
        **settings.SWITCHBOARD,
        "RATE_LIMITS": {
            "tenant": {"limit": 1000, "window_s": 60},
            "actor": {"limit": 3, "window_s": 60},
            "source": {"limit": 2, "window_s": 60},
        },
    }
    ratelimit.reset()
    yield settings
    ratelimit.reset()


def send(env, *, token=None, source="198.51.100.7"):
    outcome = pipeline.submit(
        Ingress(
            channel=Channel.USER,
            body=json.dumps(env),
            authorization=f"Bearer {token}" if token else None,
            source=source,
        )
    )
    return outcome.http_status, assert_envelope(outcome.envelope)


def test_hostile_payload_over_rest_is_refused_and_logged(api, tokens, events):
    hostile = "x' UNION SELECT password FROM users--"
    response = api(envelope("leads.create", {"name": hostile}), token=tokens["member@acme.test"])
    body = assert_envelope(response.json())
    assert response.status_code == 400
    assert body["error"]["code"] == "rejected_input"
    assert body["error"]["details"] == {"category": "sql_injection", "path": "payload/name"}
    assert "UNION" not in response.content.decode()
    [event] = events
    assert event == {
        "category": "sql_injection",
        "path": "payload/name",
        "tenant": "acme",
        "actor": "member@acme.test",
        "action": "leads.create",
        "source": "127.0.0.1",
        "code": "rejected_input",
    }
    assert hostile not in json.dumps(event)


def test_validation_refusals_are_security_events_too(tokens, events):
    status, body = send(
        envelope("leads.create", {"name": "Ann", "extra": 1}), token=tokens["member@acme.test"]
    )
    assert (status, body["error"]["code"]) == (400, "validation_error")
    assert events[-1]["code"] == "validation_error" and events[-1]["path"] == "payload/extra"


def test_actor_limit_answers_rate_limited_with_a_retry_hint(low_limits, tokens, events):
    token = tokens["member@acme.test"]
    codes = [send(envelope("leads.create", {"name": "Ann"}), token=token) for _ in range(4)]
    assert [status for status, _ in codes[:3]] == [202, 202, 202]
    status, body = codes[3]
    assert status == 429
    error = body["error"]
    assert error["code"] == "rate_limited" and error["retryable"] is True
    assert error["details"]["scope"] == "actor"
    assert 1 <= error["details"]["retry_after_s"] <= 61
    assert events[-1]["category"] == "rate_limit_actor"
    assert events[-1]["actor"] == "member@acme.test"
    # Another actor of the same tenant is not limited by the first one's count.
    assert send(envelope("leads.create", {"name": "Bo"}), token=tokens["owner@acme.test"])[0] == 202


def test_anonymous_actions_are_limited_per_source_address(low_limits, events):
    def login(source):
        payload = {"email": "nobody@acme.test", "password": "wrong-password"}
        return send(envelope("auth.login", payload, tenant="acme"), source=source)

    first = [login("203.0.113.9")[0] for _ in range(3)]
    assert first[:2] == [202, 202] and first[2] == 429
    assert events[-1]["category"] == "rate_limit_source"
    assert events[-1]["source"] == "203.0.113.9"
    assert login("203.0.113.10")[0] == 202  # another address has its own count


def test_tenant_config_limits_apply(low_limits, tokens):
    class Tenant:
        config = {"rate_limits": {"tenant": {"limit": 1, "window_s": 30}}}

    ratelimit.check(tenant=Tenant, tenant_slug="zz_cfg", actor=None, source="amqp", anonymous=True)
    with pytest.raises(ratelimit.RateLimited) as info:
        ratelimit.check(
            tenant=Tenant, tenant_slug="zz_cfg", actor=None, source="amqp", anonymous=True
        )
    assert info.value.details["scope"] == "tenant"


def test_redis_down_fails_open(settings, tokens, caplog):
    settings.SWITCHBOARD = {
        **settings.SWITCHBOARD,
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "RATE_LIMITS": {k: {"limit": 1, "window_s": 60} for k in ("tenant", "actor", "source")},
    }
    try:
        for _ in range(3):
            status, _ = send(
                envelope("leads.create", {"name": "Ann"}), token=tokens["member@acme.test"]
            )
            assert status == 202
        assert any("Redis unavailable" in r.getMessage() for r in caplog.records)
    finally:
        ratelimit._down_until = 0.0


def test_control_characters_in_envelope_identifiers_are_refused(events):
    env = envelope("leads.create", {"name": "Ann"}, tenant="acme\n")
    env["id"] = str(uuid.uuid4())
    status, body = send(env)
    assert (status, body["error"]["code"]) == (400, "rejected_input")
    assert body["error"]["details"]["path"] == "tenant"
