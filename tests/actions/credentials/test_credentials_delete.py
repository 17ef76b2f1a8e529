"""credentials.delete: the row goes, and a second delete is not found."""

import pytest
from django_tenants.utils import schema_context

from connectors.models import Credential
from tests.providers import add_credential
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_deleted_credential_is_gone(api):
    t = make_tenant("credd")
    credential_id = add_credential(t, "sms_http", {"api_key": "sk-del"}, api)
    body = send(
        api, "credentials.delete", {"id": credential_id}, tenant=t["slug"], user=t["member"]
    )
    assert body["result"] == {"id": credential_id, "deleted": True}
    with schema_context(t["slug"]):
        assert not Credential.objects.exists()
    again = send(
        api, "credentials.delete", {"id": credential_id}, tenant=t["slug"], user=t["member"]
    )
    assert again["error"]["code"] == "not_found"
