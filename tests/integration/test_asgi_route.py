"""The fast ASGI route of the two action POST endpoints (actions/edge/asgi.py), called as
uvicorn calls it, against the real workers: the same answers as the Django views, the
host check, the body bound, security and CORS headers; every other path goes to Django."""

import json

import pytest

from config.asgi import application
from tests.asgi import asgi_call
from tests.conftest import envelope

pytestmark = pytest.mark.usefixtures("workers")


def call(path, body=b"", **kw):
    return asgi_call(application, path, body, **kw)


def _post(tokens, env, **kw):
    headers = {"authorization": f"Bearer {tokens['member@acme.test']}", **kw.pop("headers", {})}
    return call("/api/v1/actions", json.dumps(env).encode(), headers=headers, **kw)


def test_an_action_waited_for_answers_its_result(tokens):
    env = envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
    env["meta"] = {"correlation_id": "client-own-id"}
    status, headers, body = _post(tokens, env, query=b"wait=10")
    assert status == 200, body
    assert body["status"] == "ok" and body["id"] == env["id"]
    assert body["result"]["id"] and body["result"]["recorded_at"]
    # The client's correlation id, never the web process's internal one.
    assert body["meta"]["correlation_id"] == "client-own-id"
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"


def test_a_waiting_client_gets_the_pushed_reply_not_a_read_of_the_record(tokens, monkeypatch):
    """Waiting polls nothing: the answer is the reply the worker pushed to this process."""
    from actions.edge import gateway

    def no_reading(outcome):
        raise AssertionError("the record was read: the reply did not arrive")

    monkeypatch.setattr(gateway, "_reread", no_reading)
    env = envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
    status, _, body = _post(tokens, env, query=b"wait=10")
    assert status == 200 and body["status"] == "ok" and body["id"] == env["id"], body


def test_without_wait_the_answer_is_accepted_with_a_location(tokens):
    env = envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
    status, headers, body = _post(tokens, env)
    assert status == 202 and body["status"] == "pending"
    assert headers["location"] == f"/api/v1/actions/{env['id']}?tenant=acme"


def test_refusals_are_envelopes_with_their_status(tokens):
    status, _, body = call("/api/v1/actions", b"{not json", query=b"wait=1")
    assert status == 400 and body["error"]["code"] == "invalid_envelope"
    status, _, body = _post(tokens, envelope("leads.list"), query=b"wait=abc")
    assert status == 400 and body["error"]["details"]["path"] == "?wait"
    status, _, body = call("/api/v1/actions", json.dumps(envelope("leads.list")).encode())
    assert status == 401 and body["error"]["code"] == "unauthenticated"


def test_a_body_over_the_limit_is_refused_while_it_is_read(settings):
    limit = settings.SWITCHBOARD["MAX_BODY_BYTES"]
    chunks = [b"x" * (limit // 2)] * 3  # no content-length: counted as it arrives
    status, _, body = call("/api/v1/actions", chunks=chunks)
    assert status == 413 and body["error"]["details"]["limit_bytes"] == limit
    status, _, _ = call("/api/v1/actions", headers={"content-length": str(limit + 1)})
    assert status == 413


def test_an_unknown_host_is_refused():
    status, _, body = call("/api/v1/actions", b"{}", headers={"host": "evil.example"})
    assert status == 400 and body["error"]["code"] == "invalid_envelope"


def test_cors_for_allowed_origins_only(tokens, settings):
    allowed = settings.CORS_ALLOWED_ORIGINS[0]
    env = envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
    _, headers, _ = _post(tokens, env, headers={"origin": allowed})
    assert headers["access-control-allow-origin"] == allowed
    assert "Location" in headers["access-control-expose-headers"]
    env = envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
    _, headers, _ = _post(tokens, env, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers


def test_other_paths_and_methods_go_to_django():
    status, _, body = call("/api/v1/index", method="GET")
    assert status == 200 and "actions" in body
    status, headers, body = call("/api/v1/actions", method="GET")
    assert status == 405 and headers["allow"] == "POST, OPTIONS"  # DRF answers OPTIONS
    assert body["error"]["code"] == "invalid_envelope"


def test_a_lost_reply_still_answers_from_the_record(tokens, monkeypatch):
    """The reply never reaches this process (its queue was lost with a broker connection):
    when `wait` runs out the record is read once, and it holds the answer."""
    from actions.edge import waiters

    replies = waiters.waiters()
    nowhere = property(lambda self: "amq.gen-nobody-listens-here")
    monkeypatch.setattr(type(replies), "ready_queue", nowhere)
    env = envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
    status, _, body = _post(tokens, env, query=b"wait=2")
    assert status == 200 and body["status"] == "ok", body
    assert body["result"]["id"]
