"""Issue 13, findings 6 and 8: the branding URLs get the SSRF rules; payloads are strictly
typed (no strings for numbers or booleans, no NaN/Infinity, real time zones only)."""

import json

import pytest

from tests.conftest import envelope
from tests.tenancy import make_tenant, submit


@pytest.fixture(scope="module")
def owned(django_db_blocker):
    with django_db_blocker.unblock():
        return make_tenant("sec")


@pytest.mark.parametrize("field", ["support_url", "logo_url"])
@pytest.mark.parametrize(
    "url",
    ["https://169.254.169.254/latest/meta-data/", "https://127.0.0.1/", "https://x.nip.io/"],
)
def test_branding_urls_get_the_ssrf_rules(owned, field, url):
    outcome = submit(
        "tenants.config.set",
        {"overrides": {"branding": {field: url}}},
        tenant=owned["slug"],
        user=owned["owner"],
        admin=True,
    )
    error = outcome.envelope["error"]
    assert error["code"] == "rejected_input", error
    assert error["details"]["category"] == "ssrf"
    assert error["details"]["path"] == f"payload/overrides/branding/{field}"


def test_a_public_support_url_passes_the_guard(owned):
    outcome = submit(
        "tenants.config.set",
        {"overrides": {"branding": {"support_url": "https://help.example.com/acme"}}},
        tenant=owned["slug"],
        user=owned["owner"],
        admin=True,
    )
    assert outcome.envelope["status"] == "pending", outcome.envelope


# --- finding 8: strict types, over the REST envelope ------------------------------------------
DEV, OWNER, MEMBER = "dev@switchboard.test", "owner@acme.test", "member@acme.test"
PROMOTE = {"reason": "strict typing test, finding 8"}
HOOK = {"workspace": "main", "path": "orders"}
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "action, payload, who, admin, path",
    [
        (
            "superadmin.promote",
            {**PROMOTE, "expires_in_minutes": "480"},
            DEV,
            True,
            "expires_in_minutes",
        ),
        (
            "superadmin.promote",
            {**PROMOTE, "expires_in_minutes": True},
            DEV,
            True,
            "expires_in_minutes",
        ),
        (
            "superadmin.promote",
            {**PROMOTE, "expires_in_minutes": 60.0},
            DEV,
            True,
            "expires_in_minutes",
        ),
        ("leads.list", {"limit": "50"}, MEMBER, False, "limit"),
        ("leads.list", {"limit": True}, MEMBER, False, "limit"),
        (
            "wellness.metrics.record",
            {"lead_id": "l1", "metric": "steps", "value": NAN},
            MEMBER,
            False,
            "value",
        ),
        ("webhooks.ingest", {**HOOK, "body": {"total": NAN}}, None, False, "body"),
        ("webhooks.ingest", {**HOOK, "body": {"deep": [1, {"x": -INF}]}}, None, False, "body"),
        ("webhooks.ingest", {**HOOK, "body": {"n": INF}}, None, False, "body"),
        (
            "tenants.config.set",
            {"overrides": {"locale": {"time_zone": "Mars/Olympus_Mons"}}},
            OWNER,
            True,
            "overrides",
        ),
        (
            "tenants.config.set",
            {"overrides": {"rate_limits": {"per_actor_per_minute": "50"}}},
            OWNER,
            True,
            "overrides",
        ),
    ],
)
def test_loose_input_is_a_validation_error(api, tokens, action, payload, who, admin, path):
    body = json.dumps(envelope(action, payload))  # NaN/Infinity as Python's JSON writes them
    answer = api(None, raw=body.encode(), token=tokens[who] if who else None, admin=admin)
    reply = answer.json()
    assert reply["status"] == "error", reply
    assert reply["error"]["code"] == "validation_error", reply["error"]
    assert reply["error"]["details"]["errors"][0]["path"] == f"payload/{path}"
    assert answer.status_code == 400
