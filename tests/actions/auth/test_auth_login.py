"""auth.login: sign-in through the real gateway and worker, and its throttling."""

import pytest
from django_tenants.utils import schema_context

from actions.models import ActionRecord
from tests.conftest import DEMO_PASSWORD, envelope
from tests.envelopes import assert_envelope
from tests.tenancy import PASSWORD, code, make_tenant, run_inline

pytestmark = pytest.mark.usefixtures("workers")


def record(schema: str, record_id: str) -> ActionRecord:
    with schema_context(schema):
        return ActionRecord.objects.get(id=record_id)


def test_login_is_real_and_runs_on_the_user_worker(api):
    env = envelope("auth.login", {"email": "owner@acme.test", "password": DEMO_PASSWORD})
    response = api(env)
    body = assert_envelope(response.json())
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["id"] == env["id"]
    assert body["result"]["memberships"] == [{"tenant": "acme", "role": "primary_owner"}]
    stored = record("acme", env["id"])
    assert stored.executed_by.startswith("user-test@")
    assert stored.payload["password"] == "[redacted]"  # the secret is not kept once used


def test_login_with_a_wrong_password_is_unauthenticated(api):
    response = api(envelope("auth.login", {"email": "owner@acme.test", "password": "nope"}))
    body = assert_envelope(response.json())
    assert response.status_code == 401
    assert body["error"]["code"] == "unauthenticated"


def test_repeated_failed_logins_are_throttled():
    t = make_tenant()
    user = t["member"]
    for _ in range(5):
        wrong = run_inline(
            "auth.login", {"email": user.email, "password": "wrong"}, schema=t["slug"], user=None
        )
        assert code(wrong) == "unauthenticated"
    # Even the right password is refused while throttled.
    right = run_inline(
        "auth.login", {"email": user.email, "password": PASSWORD}, schema=t["slug"], user=None
    )
    assert code(right) == "rate_limited"
