"""The guard and the rate limits inside the real pipeline: answers, security events,
Redis outages. Real PostgreSQL, RabbitMQ and Redis; no workers needed."""

import json
import threading
import time
import uuid

import pytest

from actions import connections
from actions.contract.registry import Channel
from actions.edge import pipeline, ratelimit
from actions.edge.pipeline import Ingress
from tenants import services as tenants
from tenants.models import User
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
    """Rate limits on (the test settings switch them off), low limits for what is not per
    tenant; the per-tenant ones come from the tenant's config (`acme_limits`)."""
    settings.SWITCHBOARD = {
        **settings.SWITCHBOARD,
        "RATE_LIMITS_ENABLED": True,
        "RATE_LIMITS": {
            "source": {"limit": 2, "window_s": 60},
            "anonymous": {"limit": 2, "window_s": 60},
            "refusals": {"limit": 3, "window_s": 60},
        },
    }
    ratelimit.reset()
    yield settings
    ratelimit.reset()


@pytest.fixture
def acme_limits():
    """Set acme's `rate_limits` overrides through the tenant config service; restored after."""
    tenant = tenants.tenant_get(slug="acme")
    before = tenant.config or {}

    def set_limits(**limits):
        tenants.config_set(tenant=tenant, overrides={**before, "rate_limits": limits}, by=None)

    yield set_limits
    tenants.config_set(tenant=tenants.tenant_get(slug="acme"), overrides=before, by=None)


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


def lead(name="Ann"):
    return envelope("leads.create", {"name": name})


def test_actor_limit_comes_from_the_tenant_config(low_limits, acme_limits, tokens, events):
    acme_limits(per_actor_per_minute=3)
    token = tokens["member@acme.test"]
    codes = [send(lead(), token=token) for _ in range(4)]
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
    assert send(lead("Bo"), token=tokens["owner@acme.test"])[0] == 202
    # A change of the config applies to the next message.
    acme_limits(per_actor_per_minute=5)
    assert send(lead(), token=token)[0] == 202


def test_tenant_limit_comes_from_the_tenant_config(low_limits, acme_limits, tokens):
    acme_limits(per_tenant_per_minute=2)
    assert send(lead(), token=tokens["member@acme.test"])[0] == 202
    assert send(lead(), token=tokens["owner@acme.test"])[0] == 202
    status, body = send(lead(), token=tokens["member@acme.test"])
    assert status == 429 and body["error"]["details"]["scope"] == "tenant"
    assert body["error"]["details"]["retry_after_s"] >= 1


def test_an_actor_over_its_limit_does_not_spend_its_tenants(low_limits, acme_limits, tokens):
    """All or nothing: a message refused by one limit counts against none. Before, the
    member's refused messages went on filling the tenant's bucket, and one member could
    lock its tenant's owners out (on `platform`, every user's account actions)."""
    acme_limits(per_tenant_per_minute=5, per_actor_per_minute=2)
    while time.time() % 60 > 55:  # the whole test in one fixed window
        time.sleep(0.5)
    member = tokens["member@acme.test"]
    codes = [send(lead(), token=member)[0] for _ in range(10)]
    assert codes == [202, 202] + [429] * 8
    client = ratelimit._client()
    tenant_counter = ratelimit._key("tenant", "acme", "60", str(int(time.time() // 60)))
    assert int(client.get(tenant_counter)) == 2  # the two accepted ones only
    # Another member of the tenant is not locked out by the first one's flood (before, the
    # tenant's counter stood at 10 of 5 by now and refused everyone).
    owner = tokens["owner@acme.test"]
    assert [send(lead("Bo"), token=owner)[0] for _ in range(2)] == [202, 202]
    status, body = send(lead("Bo"), token=owner)
    assert status == 429 and body["error"]["details"]["scope"] == "actor"
    assert int(client.get(tenant_counter)) == 4


def login(source, *, transport="rest"):
    payload = {"email": "nobody@acme.test", "password": "wrong-password"}
    outcome = pipeline.submit(
        Ingress(
            channel=Channel.USER,
            body=json.dumps(envelope("auth.login", payload, tenant="acme")),
            transport=transport,
            source=source,
        )
    )
    return outcome.http_status, assert_envelope(outcome.envelope)


def test_anonymous_actions_are_limited_per_source_address(low_limits, events):
    first = [login("203.0.113.9")[0] for _ in range(3)]
    assert first[:2] == [202, 202] and first[2] == 429
    assert events[-1]["category"] == "rate_limit_source"
    assert events[-1]["source"] == "203.0.113.9"
    assert login("203.0.113.10")[0] == 202  # another address has its own count


def test_anonymous_callers_cannot_use_up_the_members_bucket(low_limits, acme_limits, tokens):
    """Sign-in attempts from many addresses count per address only: acme's members keep
    their whole tenant budget."""
    acme_limits(per_tenant_per_minute=3)
    for i in range(6):
        assert login(f"203.0.113.{20 + i}")[0] == 202
    for _ in range(3):
        assert send(lead(), token=tokens["member@acme.test"])[0] == 202


def test_anonymous_amqp_messages_have_a_tenant_bucket_of_their_own(low_limits, acme_limits, tokens):
    acme_limits(per_tenant_per_minute=3)
    assert [login("amqp", transport="amqp")[0] for _ in range(2)] == [202, 202]
    status, body = login("amqp", transport="amqp")
    assert status == 429 and body["error"]["details"]["scope"] == "anonymous"
    assert send(lead(), token=tokens["member@acme.test"])[0] == 202  # members unaffected


def test_refused_messages_use_up_a_budget_checked_before_the_guard(
    low_limits, tokens, events, monkeypatch
):
    inspected = []
    original = pipeline.guard.inspect
    monkeypatch.setattr(pipeline.guard, "inspect", lambda *a: inspected.append(1) or original(*a))
    token = tokens["member@acme.test"]
    hostile = envelope("leads.create", {"name": "x' OR '1'='1"})
    for _ in range(3):
        status, body = send(hostile, token=token, source="198.51.100.40")
        assert body["error"]["code"] == "rejected_input"
    assert len(inspected) == 3
    # Over the budget: refused before steps 5-6, even a clean message, from that address...
    status, body = send(lead(), token=tokens["owner@acme.test"], source="198.51.100.40")
    assert status == 429 and body["error"]["details"]["scope"] == "refusals"
    assert events[-1]["category"] == "rate_limit_refusals"
    # ... and from that actor, wherever it sends from.
    status, body = send(lead(), token=token, source="198.51.100.41")
    assert status == 429 and body["error"]["details"]["scope"] == "refusals"
    assert len(inspected) == 3
    # Others are not affected.
    assert send(lead(), token=tokens["owner@acme.test"], source="198.51.100.42")[0] == 202


def _refusal_counter(subject: str) -> str:
    """The Redis key of `subject`'s refusal counter in the current window."""
    window = int(time.time() // 60)
    return ratelimit._key("refusals", subject, "60", str(window))


def test_a_sender_refused_too_often_elsewhere_is_refused_at_step_8_and_not_counted(
    low_limits, acme_limits, tokens, monkeypatch
):
    """Refusals counted by another process (here: written straight to Redis) are not
    known to this one, so it validates the message; step 8 reads the refusal counters in
    the same round trip as the limits, refuses it, counts nothing, and from then on
    this process refuses the sender before the guard."""
    acme_limits(per_tenant_per_minute=100, per_actor_per_minute=100)
    inspected = []
    original = pipeline.guard.inspect
    monkeypatch.setattr(pipeline.guard, "inspect", lambda *a: inspected.append(1) or original(*a))
    member = User.objects.get(email="member@acme.test")
    client = ratelimit._client()
    client.set(_refusal_counter(f"actor:{member.id}"), 3, ex=61)  # the budget (low_limits)
    tenant_counter = ratelimit._key("tenant", "acme", "60", str(int(time.time() // 60)))
    before = int(client.get(tenant_counter) or 0)

    status, body = send(lead(), token=tokens["member@acme.test"], source="198.51.100.50")
    assert status == 429 and body["error"]["details"]["scope"] == "refusals"
    assert len(inspected) == 1  # validated and inspected: this process did not know yet
    assert int(client.get(tenant_counter) or 0) == before  # refused: nothing counted

    status, body = send(lead(), token=tokens["member@acme.test"], source="198.51.100.51")
    assert status == 429 and body["error"]["details"]["scope"] == "refusals"
    assert len(inspected) == 1  # now refused before steps 5-6
    assert send(lead(), token=tokens["owner@acme.test"], source="198.51.100.52")[0] == 202


def test_an_accepted_message_costs_the_rate_limits_one_redis_round_trip(
    low_limits, acme_limits, tokens, monkeypatch
):
    """Refusal budget and limits in one script: a sender this process has not seen
    refused is not asked about before its payload is read."""
    acme_limits(per_tenant_per_minute=100, per_actor_per_minute=100)
    calls = []
    real = ratelimit._client

    class Counting:
        def __init__(self, client):
            self._client = client

        def __getattr__(self, name):
            calls.append(name)
            return getattr(self._client, name)

    real_trip = connections.redis_round_trip

    here = threading.get_ident()  # not the outbox's publisher thread (the fairness slots)

    def round_trip(url, *, socket_timeout, commands):
        if threading.get_ident() == here:
            calls.append(" ".join(str(command[0]).lower() for command in commands))
        return real_trip(url, socket_timeout=socket_timeout, commands=commands)

    monkeypatch.setattr(ratelimit, "_client", lambda: Counting(real()))
    monkeypatch.setattr(connections, "redis_round_trip", round_trip)
    # The first call may load the script (and run it again): not what is counted here.
    assert send(lead(), token=tokens["member@acme.test"], source="198.51.100.59")[0] == 202
    calls.clear()
    assert send(lead(), token=tokens["member@acme.test"], source="198.51.100.60")[0] == 202
    assert calls == ["evalsha"]
    # Refused once here, the sender is asked about before the guard (MGET) and at step 8.
    hostile = envelope("leads.create", {"name": "x' OR '1'='1"})
    assert send(hostile, token=tokens["member@acme.test"], source="198.51.100.60")[0] == 400
    calls.clear()
    assert send(lead(), token=tokens["member@acme.test"], source="198.51.100.60")[0] == 202
    assert calls == ["mget", "evalsha"]


def test_redis_down_fails_open(low_limits, acme_limits, tokens, caplog):
    acme_limits(per_tenant_per_minute=1, per_actor_per_minute=1)
    working = low_limits.SWITCHBOARD
    low_limits.SWITCHBOARD = {**working, "REDIS_URL": "redis://127.0.0.1:1/0"}
    try:
        for _ in range(3):
            assert send(lead(), token=tokens["member@acme.test"])[0] == 202
        assert any("Redis unavailable" in r.getMessage() for r in caplog.records)
    finally:
        low_limits.SWITCHBOARD = working
        ratelimit._down_until = 0.0


def test_a_redis_restart_does_not_switch_the_limits_off(
    low_limits, acme_limits, tokens, monkeypatch
):
    """The rate limits' connection dropped by the server, as a Redis restart drops every
    connection: the next message finds its thread's kept connection closed, takes a new
    one, and is counted; the limits stay on (a failed call would have let everything
    through for a while)."""
    monkeypatch.setattr(ratelimit, "_down_until", 0.0)  # and back to it after, whatever happens
    acme_limits(per_tenant_per_minute=100, per_actor_per_minute=2)
    token = tokens["member@acme.test"]
    assert send(lead(), token=token, source="198.51.100.70")[0] == 202
    url = low_limits.SWITCHBOARD["REDIS_URL"]
    [own] = connections.redis_round_trip(url, socket_timeout=0.2, commands=[("CLIENT", "ID")])
    assert ratelimit._client().execute_command("CLIENT", "KILL", "ID", own) == 1
    time.sleep(0.05)  # the close reaches this side of the socket
    assert send(lead(), token=token, source="198.51.100.70")[0] == 202
    assert ratelimit._down_until == 0.0  # no call failed
    status, body = send(lead(), token=token, source="198.51.100.70")
    assert (status, body["error"]["details"]["scope"]) == (429, "actor")


@pytest.fixture
def private_redis(tmp_path):
    """A Redis of this test's own, on a free port, that it may stop and start: the shared
    one is left alone. Stopped after the test, whatever happens."""
    import socket
    import subprocess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    running: list[subprocess.Popen] = []

    def start():
        running.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        for _ in range(100):
            ping = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True)
            if ping.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise AssertionError(f"the private Redis on port {port} did not answer")

    def stop():
        while running:
            server = running.pop()
            server.terminate()  # SIGTERM: Redis shuts down (nothing to save)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", start, stop
    finally:
        stop()


def test_a_real_redis_restart_between_messages_keeps_the_limits_on(
    low_limits, acme_limits, tokens, private_redis, monkeypatch
):
    """Redis stopped and started again (empty, its scripts forgotten) between two messages:
    the next message is counted on a new connection, and the limits still refuse."""
    url, start, stop = private_redis
    working = low_limits.SWITCHBOARD
    low_limits.SWITCHBOARD = {**working, "REDIS_URL": url}
    monkeypatch.setattr(ratelimit, "_down_until", 0.0)  # and back to it after, whatever happens
    acme_limits(per_tenant_per_minute=100, per_actor_per_minute=2)
    token = tokens["member@acme.test"]
    try:
        assert send(lead(), token=token, source="198.51.100.71")[0] == 202
        stop()
        start()  # empty: the first message's count is gone, and so is the script
        assert send(lead(), token=token, source="198.51.100.71")[0] == 202
        assert ratelimit._down_until == 0.0  # no call failed
        assert send(lead(), token=token, source="198.51.100.71")[0] == 202
        status, body = send(lead(), token=token, source="198.51.100.71")
        assert (status, body["error"]["details"]["scope"]) == (429, "actor")
    finally:
        low_limits.SWITCHBOARD = working  # the fixtures' clean-up uses the shared Redis


def test_control_characters_in_envelope_identifiers_are_refused(events):
    env = envelope("leads.create", {"name": "Ann"}, tenant="acme\n")
    env["id"] = str(uuid.uuid4())
    status, body = send(env)
    assert (status, body["error"]["code"]) == (400, "rejected_input")
    assert body["error"]["details"]["path"] == "tenant"
