"""The REST edge on DRF: resource routes answered through the pipeline (the same record
as the matching envelope), the DRF views and the ASGI fast route giving the same
answers, the API reference served offline, the browsable API."""

import json
import re
import uuid

import pytest
from django.contrib.staticfiles import finders
from django_tenants.utils import schema_context

from actions.contract.index import openapi_document
from actions.contract.registry import registry
from actions.contract.routes import ROUTES
from actions.models import ActionRecord
from config.asgi import application, django_application
from tests.asgi import asgi_call
from tests.conftest import DEMO_PASSWORD, envelope

pytestmark = pytest.mark.usefixtures("workers")


def _record(schema: str, record_id: str) -> ActionRecord:
    with schema_context(schema):
        return ActionRecord.objects.get(id=record_id)


def _bearer(tokens, who="member@acme.test") -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens[who]}"}


def test_a_route_call_and_its_envelope_make_the_same_record(client, api):
    key = str(uuid.uuid4())
    credentials = {"email": "member@acme.test", "password": DEMO_PASSWORD}
    by_route = client.post(
        "/auth/login?wait=10",
        data=json.dumps(credentials),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert by_route.status_code == 200, by_route.content
    body = by_route.json()
    assert body["status"] == "ok" and body["id"] == key and body["action"] == "auth.login"
    assert body["result"]["access_token"]

    env = envelope("auth.login", credentials, tenant="platform")
    by_envelope = api(env)
    assert by_envelope.status_code == 200

    route_record, envelope_record = _record("public", key), _record("public", env["id"])
    for field in ("action", "version", "channel", "status", "payload", "actor_id"):
        assert getattr(route_record, field) == getattr(envelope_record, field), field
    assert route_record.payload["password"] != DEMO_PASSWORD  # redacted like any record


def test_a_route_of_a_dummy_answers_not_implemented_with_its_record(client, tokens):
    response = client.get(
        "/api/v1/leads?limit=20&status=new", HTTP_X_TENANT="acme", **_bearer(tokens)
    )
    body = response.json()
    assert response.status_code == 501, body
    assert body["error"]["code"] == "not_implemented" and body["action"] == "leads.list"
    record = _record("acme", body["id"])
    # The query, typed by the schema (the record keeps the validated payload, defaults too).
    assert (record.payload["limit"], record.payload["status"]) == (20, "new")


def test_path_parameters_are_validated_by_the_actions_schema(client, tokens):
    response = client.get("/api/v1/leads/not%20an%20id", HTTP_X_TENANT="acme", **_bearer(tokens))
    body = response.json()
    assert response.status_code == 400, body
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"]["errors"][0]["path"] == "payload/id"


def test_a_query_value_that_is_not_of_the_fields_type_is_refused(client, tokens):
    response = client.get("/api/v1/leads?limit=many", HTTP_X_TENANT="acme", **_bearer(tokens))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_body_may_not_contradict_the_path(client, tokens):
    response = client.put(
        "/api/v1/leads/abc",
        data=json.dumps({"id": "xyz", "name": "Ann"}),
        content_type="application/json",
        HTTP_X_TENANT="acme",
        **_bearer(tokens),
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["path"] == "payload.id"


def test_a_tenant_route_without_a_tenant_is_refused(client, tokens):
    response = client.get("/api/v1/leads", **_bearer(tokens))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["path"] == "X-Tenant"


def test_the_webhook_route_takes_the_whole_body_as_one_field(client):
    response = client.post(
        "/webhooks/main/orders?tenant=acme",
        data=json.dumps({"order": 42, "items": ["a"]}),
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 501, body  # webhooks.ingest is still a dummy
    record = _record("acme", body["id"])
    assert {k: record.payload[k] for k in ("workspace", "path", "body")} == {
        "workspace": "main",
        "path": "orders",
        "body": {"order": 42, "items": ["a"]},
    }


def test_a_method_a_route_does_not_have_is_refused_with_allow(client, tokens):
    response = client.post("/api/v1/leads/abc", HTTP_X_TENANT="acme", **_bearer(tokens))
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "invalid_envelope"
    assert {"GET", "PUT", "DELETE"} <= {m.strip() for m in response["Allow"].split(",")}


def test_every_route_is_in_the_index_and_in_openapi(client):
    index = {e["name"]: e for e in client.get("/api/v1/index").json()["actions"]}
    paths = openapi_document()["paths"]
    for route in ROUTES:
        assert route.describe() in index[route.action]["routes"]
        assert route.method.lower() in paths[route.path]
        spec = registry.get(route.action)
        assert set(route.params) <= set(spec.input.model_fields)


# --- the DRF views and the fast route answer alike ------------------------------------------
def _comparable(body: dict) -> dict:
    body = json.loads(json.dumps(body))
    body.pop("id", None)
    body["meta"] = {k: v for k, v in body["meta"].items() if k in ("state",)}
    return body


@pytest.mark.parametrize(
    "case",
    ["not json", "bad envelope", "unknown action", "dummy", "no token", "wrong channel"],
)
def test_the_drf_view_and_the_fast_route_answer_alike(tokens, case):
    member = {"authorization": f"Bearer {tokens['member@acme.test']}"}
    path, headers, env = "/api/v1/actions", member, envelope("leads.list", {})
    body = json.dumps(env).encode()
    if case == "not json":
        body = b"{not json"
    elif case == "bad envelope":
        body = json.dumps({"api": "1"}).encode()
    elif case == "unknown action":
        body = json.dumps(envelope("nothing.here", {})).encode()
    elif case == "no token":
        headers = {}
    elif case == "wrong channel":
        path = "/api/v1/admin/actions"
    answers = []
    for app in (application, django_application):
        if case not in ("not json", "bad envelope"):
            fresh = json.loads(body)
            fresh["id"] = str(uuid.uuid4())  # each its own message
            body = json.dumps(fresh).encode()
        status, got_headers, answer = asgi_call(app, path, body, headers=headers, query=b"wait=10")
        answers.append((status, got_headers.get("content-type"), _comparable(answer)))
    assert answers[0] == answers[1]


# --- the API reference and the browsable API ------------------------------------------------
def test_the_api_reference_loads_with_no_external_url(client):
    """Swagger UI, vendored by drf-spectacular-sidecar. (Not Redoc: its bundle loads a
    logo from a CDN.)"""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href|data-spec-url)="([^"]+)"', html)
    assert urls and all(url.startswith("/") for url in urls), urls
    for url in urls:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert b"https://cdn" not in b"".join(asset.streaming_content)
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.json() == json.loads(json.dumps(openapi_document()))


def test_the_browsable_api_answers_people(client):
    response = client.get("/api/v1/index", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"leads.create" in response.content
