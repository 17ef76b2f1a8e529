"""Bad envelopes get the documented error envelope: never a 500, never HTML."""

import json

import pytest

from tests.conftest import envelope
from tests.envelopes import assert_envelope


def post(client, body, *, url="/api/v1/actions", **extra):
    return client.post(url, data=body, content_type="application/json", **extra)


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        (b"not json", "invalid_envelope", 400),
        (b"", "invalid_envelope", 400),
        (b"[1, 2]", "invalid_envelope", 400),
        (b"\xff\xfe", "invalid_envelope", 400),
        (json.dumps({"api": "1"}), "invalid_envelope", 400),
        (json.dumps({**envelope("leads.list"), "api": 1}), "invalid_envelope", 400),
        (json.dumps({**envelope("leads.list"), "id": "not-a-uuid"}), "invalid_envelope", 400),
        (json.dumps({**envelope("leads.list"), "payload": []}), "invalid_envelope", 400),
        (json.dumps({**envelope("leads.list"), "extra": 1}), "invalid_envelope", 400),
        (json.dumps({**envelope("leads.list"), "version": "1"}), "invalid_envelope", 400),
        (json.dumps({**envelope("leads.list"), "tenant": "Acme; drop"}), "invalid_envelope", 400),
        (json.dumps(envelope("nosuch.action")), "unknown_action", 404),
        (json.dumps({**envelope("leads.list"), "version": 99}), "unknown_action", 404),
    ],
)
def test_bad_envelopes(client, body, code, status):
    response = post(client, body)
    assert response["Content-Type"] == "application/json"
    body = assert_envelope(response.json())
    assert (response.status_code, body["error"]["code"]) == (status, code)


def test_an_oversize_body_is_413(client):
    big = json.dumps(envelope("leads.list", {"x": "a" * 300_000}))
    response = post(client, big)
    assert response.status_code == 413
    assert assert_envelope(response.json())["error"]["code"] == "invalid_envelope"


def test_too_deep_nesting_is_refused(client):
    payload: dict = {}
    node = payload
    for _ in range(40):
        node["a"] = {}
        node = node["a"]
    response = post(client, json.dumps(envelope("leads.list", payload)))
    assert response.status_code == 400
    assert assert_envelope(response.json())["error"]["code"] == "invalid_envelope"


def test_errors_never_echo_the_hostile_value(client):
    response = post(client, json.dumps({**envelope("leads.list"), "id": "<script>x</script>"}))
    assert "<script>" not in response.content.decode()


def test_wrong_method_and_unknown_url_are_json_envelopes(client):
    for response in (
        client.get("/api/v1/actions"),
        client.get("/nowhere"),
        client.put("/api/v1/admin/actions"),
    ):
        assert response["Content-Type"] == "application/json"
        assert_envelope(response.json())
    assert client.get("/api/v1/actions").status_code == 405


def test_a_bad_wait_is_refused(client):
    response = post(client, json.dumps(envelope("leads.list")), url="/api/v1/actions?wait=999")
    assert assert_envelope(response.json())["error"]["code"] == "invalid_envelope"


def test_the_payload_is_validated_against_the_action_schema(client, tokens):
    body = json.dumps(envelope("leads.create", {"name": "x", "unexpected": 1}))
    response = post(client, body, HTTP_AUTHORIZATION=f"Bearer {tokens['member@acme.test']}")
    body = assert_envelope(response.json())
    assert body["error"]["code"] == "validation_error"
    assert any(e["path"] == "payload/unexpected" for e in body["error"]["details"]["errors"])
