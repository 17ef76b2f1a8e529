"""connectors.traces.get: one trace with its steps; another tenant's is not found."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from connectors.models import ConnectorTrace
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_reads_a_trace_of_the_tenant_only(api):
    t = make_tenant("cxtg")
    other = make_tenant("cxtg")
    with schema_context(t["slug"]):
        trace = ConnectorTrace.objects.create(
            trace_id="a" * 32, action="messages.send", message_id="m", connector="sms_http",
            connector_version=1, outcome="ok", duration_ms=3, started_at=timezone.now(),
            steps=[{"step": "request", "data": {"to": "+4477", "text": "hi"}, "ms": 0.0}],
            config={"sender": "Acme"}, attempts=[{"at": "now", "ms": 2.0, "error": None}],
        )  # fmt: skip
    body = send(api, "connectors.traces.get", {"id": trace.id}, tenant=t["slug"], user=t["owner"])
    assert body["result"]["steps"][0]["data"] == {"to": "+4477", "text": "hi"}
    assert body["result"]["attempts"] == 1 and body["result"]["config"] == {"sender": "Acme"}
    elsewhere = send(
        api, "connectors.traces.get", {"id": trace.id}, tenant=other["slug"], user=other["owner"]
    )
    assert elsewhere["error"]["code"] == "not_found"
