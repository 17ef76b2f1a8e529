"""system.queues: the queues of both channels and their dead-letter queues, for developers."""

import pytest

from tests.envelopes import query

pytestmark = pytest.mark.usefixtures("workers")


def test_a_developer_sees_every_queue_and_the_dead_letter_depth(api, tokens):
    body = query(api, tokens, "dev@switchboard.test", "system.queues", {}, tenant="platform")
    assert body["status"] == "ok", body["error"]
    queues = body["result"]["queues"]
    for name in (
        "switchboard.user.actions",
        "switchboard.admin.actions",
        "switchboard.maintenance",
    ):
        assert queues[name]["declared"] and queues[name]["kind"] == "work", queues[name]
    assert queues["switchboard.user.actions"]["consumers"] >= 1
    assert queues["switchboard.user.dead"]["kind"] == "dead_letter"
    assert body["result"]["dead_lettered"] == sum(
        q["messages"] for q in queues.values() if q["kind"] == "dead_letter"
    )


def test_a_member_may_not(api, tokens):
    body = query(api, tokens, "member@acme.test", "system.queues", {}, tenant="platform")
    assert body["error"]["code"] == "forbidden"
