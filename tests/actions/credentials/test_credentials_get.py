"""credentials.get: one credential, without its secrets; another tenant's is not found."""

import json

import pytest

from tests.providers import add_credential
from tests.tenancy import bearer, make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_credential_is_described_by_its_field_names_only(api):
    t = make_tenant("credg")
    other = make_tenant("credg")
    credential_id = add_credential(t, "sms_http", {"api_key": "sk-get-1"}, api)
    body = send(api, "credentials.get", {"id": credential_id}, tenant=t["slug"], user=t["member"])
    assert body["result"]["id"] == credential_id and body["result"]["fields"] == ["api_key"]
    assert "sk-get-1" not in json.dumps(body)
    elsewhere = send(
        api, "credentials.get", {"id": credential_id}, tenant=other["slug"], user=other["member"]
    )
    assert elsewhere["error"]["code"] == "not_found"


def test_the_route_finds_a_credential_only_in_its_own_workspace(api, client):
    """`GET /api/v1/workspaces/{workspace_id}/credentials/{id}`: the path's workspace must
    be the credential's (add_credential makes it in workspace `ws1`)."""
    t = make_tenant("credw")
    credential_id = add_credential(t, "sms_http", {"api_key": "sk-get-2"}, api)
    headers = {"HTTP_AUTHORIZATION": bearer(t["member"]), "HTTP_X_TENANT": t["slug"]}
    found = client.get(f"/api/v1/workspaces/ws1/credentials/{credential_id}", **headers)
    assert found.status_code == 200, found.content
    assert found.json()["result"]["id"] == credential_id
    elsewhere = client.get(f"/api/v1/workspaces/ws2/credentials/{credential_id}", **headers)
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["code"] == "not_found"
