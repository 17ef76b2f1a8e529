"""credentials.create: validated against the provider, sealed, never shown again."""

import json

import pytest
from django.db import connection
from psycopg import sql

from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def _create(api, t, data, provider="sms_http"):
    payload = {"workspace_id": "ws1", "provider": provider, "name": "Main", "data": data}
    return send(api, "credentials.create", payload, tenant=t["slug"], user=t["member"])


def test_a_credential_is_stored_sealed_and_answered_without_its_values(api):
    t = make_tenant("credc")
    body = _create(api, t, {"api_key": "sk-very-secret-1"})
    assert body["status"] == "ok", body
    assert body["result"]["fields"] == ["api_key"] and body["result"]["provider"] == "sms_http"
    assert "sk-very-secret-1" not in json.dumps(body)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT * FROM {}.connectors_credential").format(sql.Identifier(t["slug"]))
        )
        (row,) = cursor.fetchall()
    raw = b"".join(bytes(v) if isinstance(v, memoryview) else str(v).encode() for v in row)
    assert b"sk-very-secret-1" not in raw
    # the action record keeps no secret either
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT payload::text FROM {}.actions_actionrecord").format(
                sql.Identifier(t["slug"])
            )
        )
        assert all("sk-very-secret-1" not in r[0] for r in cursor.fetchall())


def test_data_that_does_not_fit_the_provider_is_refused_by_field_name(api):
    t = make_tenant("credv")
    missing = _create(api, t, {"other": "x"})
    assert missing["error"]["code"] == "validation_error"
    paths = [e["path"] for e in missing["error"]["details"]["errors"]]
    assert "payload/data/api_key" in paths and "payload/data/(key)" in paths
    assert "x" not in json.dumps(missing["error"]["details"])
    unknown = _create(api, t, {"api_key": "k"}, provider="nope")
    assert unknown["error"]["code"] == "validation_error"
