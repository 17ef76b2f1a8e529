"""release.request: an owner asks for an action to be released in an environment."""

import pytest

from release.models import ReleaseRequest
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_asks_for_a_release_and_the_request_waits(api):
    t = make_tenant("rq")
    payload = {"action": "auth.forgot", "environment": "hosted_live", "note": "users forget"}
    body = send(api, "release.request", payload, tenant=t["slug"], user=t["owner"])
    assert body["status"] == "ok", body
    assert body["result"]["status"] == "pending"
    stored = ReleaseRequest.objects.get(id=body["result"]["id"])
    assert (stored.tenant, stored.requester, stored.environment) == (
        t["slug"],
        t["owner"].email,
        "hosted_live",
    )


def test_a_member_may_not_ask(api):
    t = make_tenant("rq")
    payload = {"action": "auth.forgot", "environment": "hosted_live", "note": "users forget"}
    body = send(api, "release.request", payload, tenant=t["slug"], user=t["member"])
    assert body["error"]["code"] == "forbidden"


def test_an_action_the_index_lacks_cannot_be_asked_for(api):
    t = make_tenant("rq")
    payload = {"action": "no.such", "environment": "hosted_live", "note": "please release"}
    body = send(api, "release.request", payload, tenant=t["slug"], user=t["owner"])
    assert body["error"]["code"] == "unknown_action", body
