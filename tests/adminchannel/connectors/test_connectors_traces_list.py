"""connectors.traces.list: the tenant's connector calls, newest first, tenant-scoped."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from connectors.models import ConnectorTrace
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def _trace(outcome: str, minutes_ago: int) -> ConnectorTrace:
    return ConnectorTrace.objects.create(
        trace_id="t" * 32, action="messages.send", message_id="m", connector="sms_http",
        connector_version=1, outcome=outcome, duration_ms=5,
        started_at=timezone.now() - timezone.timedelta(minutes=minutes_ago),
    )  # fmt: skip


def test_an_owner_lists_only_the_tenants_own_traces_newest_first(api):
    t = make_tenant("cxtl")
    other = make_tenant("cxtl")
    with schema_context(t["slug"]):
        old, new = _trace("ok", 5), _trace("error", 1)
    with schema_context(other["slug"]):
        _trace("ok", 0)
    body = send(api, "connectors.traces.list", {}, tenant=t["slug"], user=t["owner"])
    assert [i["id"] for i in body["result"]["items"]] == [new.id, old.id]
    errors = send(
        api, "connectors.traces.list", {"outcome": "error"}, tenant=t["slug"], user=t["owner"]
    )
    assert [i["id"] for i in errors["result"]["items"]] == [new.id]
    member = send(api, "connectors.traces.list", {}, tenant=t["slug"], user=t["member"])
    assert member["error"]["code"] == "forbidden"
