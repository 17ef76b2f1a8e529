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


def test_no_method_on_any_api_path_answers_a_csrf_html_page(client):
    for method in ("delete", "patch", "post", "put"):
        for path in ("/api/v1/index", "/health", "/api/v1/actions/" + envelope("x.y")["id"]):
            response = getattr(client, method)(path)
            assert response["Content-Type"] == "application/json", (method, path)
            assert_envelope(response.json())
            assert response.status_code == 405


def test_unknown_paths_and_bad_tenants_are_not_echoed(client):
    response = client.get("/api/v1/actions/%3Cscript%3Ealert(1)%3C%2Fscript%3E?tenant=acme")
    assert "<script>" not in response.content.decode()
    response = client.get(f"/api/v1/actions/{envelope('x.y')['id']}?tenant=%3Cscript%3E")
    body = assert_envelope(response.json())
    assert "<script>" not in response.content.decode() and body["tenant"] is None
    assert body["error"]["code"] == "invalid_envelope"


def test_a_browser_front_end_on_an_allowed_origin_may_call_the_api(client):
    preflight = client.options(
        "/api/v1/actions",
        HTTP_ORIGIN="http://localhost:5173",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert preflight["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    other = client.options(
        "/api/v1/actions",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in other


def test_a_hostile_payload_key_is_not_echoed_in_a_validation_error(client, tokens):
    payload = {"name": "x", "evil<script>alert(1)</script>": 1, "a' OR 1=1--": 2}
    response = post(
        client,
        json.dumps(envelope("leads.create", payload)),
        HTTP_AUTHORIZATION=f"Bearer {tokens['member@acme.test']}",
    )
    body = assert_envelope(response.json())
    assert body["error"]["code"] == "validation_error"
    assert "<script>" not in response.content.decode() and "OR 1=1" not in response.content.decode()
    assert {e["path"] for e in body["error"]["details"]["errors"]} == {"payload/(key)"}


@pytest.mark.parametrize("depth", [990, 5000])
def test_json_nested_past_the_parsers_limit_is_an_invalid_envelope_not_a_500(client, depth):
    deep_array = "[" * depth + "]" * depth
    deep_payload = '{"a":' * depth + "1" + "}" * depth
    body_payload = json.dumps(envelope("leads.create")).replace(
        '"payload": {}', f'"payload": {deep_payload}'
    )
    for body in (deep_array, body_payload):
        response = post(client, body)
        assert response.status_code == 400, response.content[:200]
        assert assert_envelope(response.json())["error"]["code"] == "invalid_envelope"


def test_head_on_health_is_allowed(client):
    assert client.head("/health").status_code in (200, 503)


@pytest.mark.parametrize(
    ("action", "payload", "user", "admin", "code"),
    [
        # the payload does not fit the action's schema
        (
            "analytics.cta.record",
            {"surface": "home"},
            "member@acme.test",
            False,
            "validation_error",
        ),
        # an admin action from a member
        ("tenants.config.get", {}, "member@acme.test", True, "forbidden"),
        # an admin action with no token at all
        ("tenants.config.get", {}, None, True, "forbidden"),
    ],
)
def test_a_refusal_names_the_version_and_state_it_resolved(
    api, tokens, action, payload, user, admin, code
):
    """A client may leave `version` out (the newest is meant); once the edge has found the
    action, its refusal answers with that version and the action's lifecycle state, as an
    accepted action's answer does (ARCHITECTURE.md, the response envelope)."""
    from actions.contract.registry import registry

    spec = registry.get(action)
    response = api(envelope(action, payload), token=tokens.get(user), admin=admin)
    body = assert_envelope(response.json())
    assert body["error"]["code"] == code, body
    assert body["version"] == spec.version
    assert body["meta"]["state"] == spec.state.value


def test_an_unknown_action_has_no_version_or_state_to_name(api, tokens):
    body = assert_envelope(api(envelope("nosuch.action"), token=tokens["member@acme.test"]).json())
    assert body["error"]["code"] == "unknown_action"
    assert body["version"] is None and body["meta"]["state"] is None


def test_the_other_channels_action_is_unknown_here_and_names_no_version(api, tokens):
    body = api(envelope("leads.list"), token=tokens["owner@acme.test"], admin=True).json()
    body = assert_envelope(body)
    assert body["error"]["code"] == "unknown_action"
    assert body["version"] is None and body["meta"]["state"] is None
