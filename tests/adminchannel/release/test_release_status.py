"""release.status: where each action stands here, and the tenant's requests."""

import pytest

from release import services
from tests.tenancy import make_tenant, send

pytestmark = pytest.mark.usefixtures("workers")


def test_an_owner_sees_the_actions_here_and_the_tenants_requests(api):
    t, other = make_tenant("rs"), make_tenant("rs")
    mine = services.release_request_create(
        tenant=t["slug"], requester=t["owner"].email, action="auth.forgot", version=1,
        environment="hosted_test", note="users forget passwords",
    )  # fmt: skip
    services.release_request_create(
        tenant=other["slug"], requester=other["owner"].email, action="auth.forgot", version=1,
        environment="hosted_test", note="not visible to the first tenant",
    )  # fmt: skip
    body = send(api, "release.status", {"action": "auth.login"}, tenant=t["slug"], user=t["owner"])
    assert body["status"] == "ok", body
    result = body["result"]
    assert result["environment"] == "local_test"
    assert [(i["name"], i["state"], i["released"]) for i in result["items"]] == [
        ("auth.login", "released", True)
    ]
    assert [r["id"] for r in result["requests"]] == [str(mine.id)]
    assert result["requests"][0]["status"] == "pending"


def test_pages_through_the_actions(api):
    t = make_tenant("rs")
    body = send(api, "release.status", {"limit": 2}, tenant=t["slug"], user=t["owner"])
    assert len(body["result"]["items"]) == 2 and body["result"]["page"]["next_cursor"] == "2"
