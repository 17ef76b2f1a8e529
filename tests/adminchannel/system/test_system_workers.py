"""system.workers: the live workers of each channel and what they run, for developers."""

import pytest

from tests.admin_calls import DEV, MEMBER, admin

pytestmark = pytest.mark.usefixtures("workers")


def test_a_member_is_refused(api, tokens):
    status, body = admin(api, tokens, MEMBER, "system.workers", tenant="platform")
    assert (status, body["status"], body["error"]["code"]) == (403, "error", "forbidden")


def test_system_workers_lists_each_channels_workers_and_what_they_run(api, tokens):
    status, body = admin(api, tokens, DEV, "system.workers")
    assert status == 200 and body["status"] == "ok", body
    result = body["result"]
    assert result["channels"]["user"] >= 1 and result["channels"]["admin"] >= 1
    by_host = {w["hostname"]: w for w in result["workers"]}
    user = next(w for h, w in by_host.items() if h.startswith("user-test@"))
    admin_worker = next(w for h, w in by_host.items() if h.startswith("admin-test@"))
    assert user["channel"] == "user" and "switchboard.user.actions" in user["queues"]
    assert admin_worker["channel"] == "admin"
    assert admin_worker["queues"] == ["switchboard.admin.actions"]
    assert user["concurrency"] == 4 and user["pid"] > 0
    # The admin worker is running this very action while it answers.
    assert any(t["task"] == "switchboard.admin.execute" for t in admin_worker["running"])
