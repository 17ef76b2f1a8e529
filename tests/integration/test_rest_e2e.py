"""REST -> RabbitMQ -> worker -> record -> response, against the real services."""

import json
import time

import pytest
from django_tenants.utils import schema_context

from actions.models import ActionRecord
from tests.conftest import DEMO_PASSWORD, envelope, new_id
from tests.envelopes import assert_envelope

pytestmark = pytest.mark.usefixtures("workers")


def record(schema: str, record_id: str) -> ActionRecord:
    with schema_context(schema):
        return ActionRecord.objects.get(id=record_id)


def test_a_token_from_login_runs_a_dummy_which_is_to_be_implemented(api):
    login = api(envelope("auth.login", {"email": "member@acme.test", "password": DEMO_PASSWORD}))
    token = login.json()["result"]["access_token"]
    response = api(envelope("leads.create", {"name": "Ann O'Brien"}), token=token)
    body = assert_envelope(response.json())
    assert response.status_code == 501
    assert body["error"]["code"] == "not_implemented"
    assert body["error"]["message"] == "to be implemented"
    assert body["meta"]["state"] == "dummy"


def test_without_wait_the_answer_is_202_with_a_location_to_poll(api, client, tokens):
    env = envelope("leads.list", {})
    response = api(env, token=tokens["member@acme.test"], wait=None)
    body = assert_envelope(response.json())
    assert response.status_code == 202 and body["status"] == "pending"
    location = response["Location"]
    assert location == f"/api/v1/actions/{env['id']}?tenant=acme"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['member@acme.test']}"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        polled = client.get(location, **auth)
        if polled.json()["status"] != "pending":
            break
        time.sleep(0.05)
    assert_envelope(polled.json())
    assert polled.json()["error"]["code"] == "not_implemented"
    # Another user may not read it, not even an owner of the same tenant.
    other = client.get(location, HTTP_AUTHORIZATION=f"Bearer {tokens['owner@acme.test']}")
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"


def test_the_same_id_twice_runs_once_and_answers_the_same(api, tokens):
    env = envelope("leads.get", {"id": "lead-1"})
    first = api(env, token=tokens["member@acme.test"]).json()
    second = api(env, token=tokens["member@acme.test"]).json()
    assert first["error"] == second["error"] and second["id"] == env["id"]
    assert first["meta"]["trace_id"] == second["meta"]["trace_id"]
    stored = record("acme", env["id"])
    assert stored.attempts == 1
    with schema_context("acme"):
        assert ActionRecord.objects.filter(id=env["id"]).count() == 1


def test_the_same_id_with_another_payload_is_a_conflict(api, tokens):
    env = envelope("leads.get", {"id": "lead-1"})
    api(env, token=tokens["member@acme.test"])
    env["payload"] = {"id": "lead-2"}
    response = api(env, token=tokens["member@acme.test"])
    assert response.status_code == 409
    assert assert_envelope(response.json())["error"]["code"] == "conflict"


def test_admin_actions_run_on_the_admin_worker_only(api, tokens):
    env = envelope("tenants.get", {})
    body = assert_envelope(api(env, token=tokens["owner@acme.test"], admin=True).json())
    assert body["status"] == "ok" and body["result"]["slug"] == "acme", body
    assert record("acme", env["id"]).executed_by.startswith("admin-test@")
    # The user endpoint does not know admin actions, and the reverse.
    wrong = api(envelope("tenants.get", {}), token=tokens["owner@acme.test"])
    assert wrong.json()["error"]["code"] == "unknown_action"
    wrong = api(envelope("leads.list", {}), token=tokens["owner@acme.test"], admin=True)
    assert wrong.json()["error"]["code"] == "unknown_action"


def test_a_member_of_another_tenant_is_forbidden(api, tokens):
    response = api(envelope("leads.list", {}, tenant="acme"), token=tokens["member@beta.test"])
    assert response.status_code == 403
    assert assert_envelope(response.json())["error"]["code"] == "forbidden"
    unknown = api(envelope("leads.list", {}, tenant="nosuch"), token=tokens["member@beta.test"])
    assert unknown.json()["error"]["code"] == "forbidden"  # no probing for tenant names


def test_a_member_may_not_run_an_owner_action(api, tokens):
    response = api(envelope("tenants.get", {}), token=tokens["member@acme.test"], admin=True)
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("header", [None, "Bearer not-a-jwt", "Basic abc"])
def test_missing_or_bad_credentials_are_unauthenticated(api, client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(
        "/api/v1/actions?wait=1",
        data=json.dumps(envelope("leads.list")),
        content_type="application/json",
        **extra,
    )
    assert response.status_code == 401
    assert assert_envelope(response.json())["error"]["code"] == "unauthenticated"


def test_a_platform_action_needs_tenant_platform(api, tokens):
    response = api(
        envelope("tenants.list", {}, tenant="acme"),
        token=tokens["dev@switchboard.test"],
        admin=True,
    )
    assert response.json()["error"]["code"] == "validation_error"
    response = api(
        envelope("tenants.list", {}, tenant="platform"),
        token=tokens["dev@switchboard.test"],
        admin=True,
    )
    body = response.json()
    assert body["status"] == "ok" and {"acme", "beta"} <= {
        t["slug"] for t in body["result"]["items"]
    }


def test_health_endpoint_names_each_part(client):
    response = client.get("/health")
    body = response.json()
    assert response.status_code == 200, body
    assert body["parts"]["worker.user"]["ok"] and body["parts"]["worker.admin"]["ok"]


def test_an_action_whose_deadline_passed_times_out(api, tokens):
    env = envelope("leads.list", {}, meta={"deadline_ms": 1})
    response = api(env, token=tokens["member@acme.test"])
    # Either it ran within 1 ms of being stored (never on this machine) or it timed out.
    assert assert_envelope(response.json())["error"]["code"] == "timeout"


def test_unknown_ids_are_not_found(client, tokens):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['member@acme.test']}"}
    response = client.get(f"/api/v1/actions/{new_id()}?tenant=acme", **auth)
    assert response.status_code == 404
    assert assert_envelope(response.json())["error"]["code"] == "not_found"


def test_polling_an_anonymous_login_does_not_hand_out_its_tokens(api, client):
    login = {"email": "member@beta.test", "password": DEMO_PASSWORD}
    env = envelope("auth.login", login, tenant="beta")
    assert api(env).json()["status"] == "ok"
    polled = assert_envelope(client.get(f"/api/v1/actions/{env['id']}?tenant=beta").json())
    assert polled["status"] == "ok"
    assert polled["result"]["access_token"] == "[redacted]"
    assert polled["result"]["refresh_token"] == "[redacted]"
    again = api(env).json()  # the whole message again (password included) is the proof
    assert again["result"]["access_token"].startswith("eyJ")


def test_an_anonymous_admin_call_is_forbidden(api):
    response = api(envelope("tenants.get", {}), admin=True)
    assert response.status_code == 403
    assert assert_envelope(response.json())["error"]["code"] == "forbidden"


def test_login_tokens_answer_replays_only_within_the_replay_window(api):
    from datetime import timedelta

    from django.utils import timezone

    from actions.worker.retention import purge_secrets

    env = envelope("auth.login", {"email": "member@acme.test", "password": DEMO_PASSWORD})
    assert api(env).json()["result"]["access_token"].startswith("eyJ")
    purge_secrets()  # within the window: kept
    assert api(env).json()["result"]["access_token"].startswith("eyJ")
    purge_secrets(now=timezone.now() + timedelta(minutes=6))
    stored = record("acme", env["id"])
    assert stored.result["access_token"] == stored.result["refresh_token"] == "[redacted]"
    assert stored.secrets_purged_at is not None
    assert api(env).json()["result"]["access_token"] == "[redacted]"


def test_a_rest_repeat_sent_while_its_action_runs_is_answered_when_it_is_done(api, tokens):
    """The worker holds a running record until its outcome commits: a `?wait` repeat cannot
    join its reply targets, and reads the record until it is finished instead of waiting
    out its whole `wait`. Here the test holds the row, as a worker running it would."""
    import threading

    from tests.records import RunningAsAWorker

    running = RunningAsAWorker()
    result = {"id": "7", "recorded_at": "2026-11-27T00:00:00Z"}

    def finish():
        time.sleep(1.0)
        running.finish(result)

    finisher = threading.Thread(target=finish)
    finisher.start()
    started = time.monotonic()
    body = api(running.envelope, token=tokens["member@acme.test"], wait=20).json()
    took = time.monotonic() - started
    finisher.join()
    assert body["status"] == "ok" and body["result"] == result, body
    assert took < 5, took  # not the whole `wait`
