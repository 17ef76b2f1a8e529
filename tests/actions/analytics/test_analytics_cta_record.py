"""analytics.cta.record: one call-to-action event, stored in the tenant's schema."""

import pytest
from django_tenants.utils import schema_context

from actions.models import CtaEvent
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_a_member_records_an_event_in_the_tenants_schema(api):
    t = make_tenant("cta")
    body = send(
        api,
        "analytics.cta.record",
        {"surface": "web", "cta_id": "signup", "event": "view"},
        tenant=t["slug"],
        user=t["member"],
    )
    assert body["status"] == "ok", body
    assert body["result"]["id"] and body["result"]["recorded_at"]
    with schema_context(t["slug"]):
        assert CtaEvent.objects.count() == 1
