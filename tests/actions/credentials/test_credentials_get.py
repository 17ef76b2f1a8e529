"""credentials.get: one credential, without its secrets; another tenant's is not found."""

import json

import pytest

from tests.providers import add_credential
from tests.tenancy import make_tenant, send

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
