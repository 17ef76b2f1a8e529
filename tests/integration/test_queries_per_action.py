"""Queries per action, pinned: a change that adds a round trip to the hot path shows here.

The edge stores an accepted action with two statements (who is calling on which tenant
with which roles; the record's INSERT); the worker runs it with four (claim; the roles
again, which may have changed; the handler's INSERT; the result) and one COMMIT, plus at
most one `SET search_path` when its thread last served another schema. Publishing is not a query
(the outbox marks a whole batch published with one UPDATE per schema, on its own thread).
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions.contract.registry import Channel
from actions.edge.pipeline import Ingress, submit
from actions.records import record_store
from actions.worker import executor
from tenants.models import User
from tests.conftest import envelope

CTA = {"surface": "web", "cta_id": "signup", "event": "click"}


CONTROL = (
    "SET search_path",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE SAVEPOINT",
    "-- async commit",  # SET LOCAL synchronous_commit = off, sent with the claim
)


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured if not q["sql"].startswith(CONTROL)]


def test_the_edge_accepts_an_action_with_two_queries(tokens):
    ingress = Ingress(
        channel=Channel.USER,
        body=json.dumps(envelope("analytics.cta.record", CTA)).encode(),
        authorization=f"Bearer {tokens['member@acme.test']}",
    )
    submit(ingress)  # warm: the connection, the prepared statement
    ingress.body = json.dumps(envelope("analytics.cta.record", CTA)).encode()
    with CaptureQueriesContext(connection) as captured:
        outcome = submit(ingress)
    assert outcome.envelope["status"] == "pending"
    statements = _statements(captured.captured_queries)
    assert len(statements) == 2, statements
    assert statements[0].startswith("-- access_resolve")
    assert statements[1].startswith('-- record_store\nINSERT INTO "acme"."actions_actionrecord"')
    assert len(captured.captured_queries) == 2  # and no schema switch at the edge


def _stored_record() -> str:
    member = User.objects.get(email="member@acme.test")
    env = envelope("analytics.cta.record", CTA)
    record_store(
        schema="acme",
        id=env["id"],
        action="analytics.cta.record",
        version=1,
        channel="user",
        transport="rest",
        actor_id=member.pk,
        actor_email=member.email,
        payload=CTA,
        payload_hash="-",
        meta={},
        trace_id="t" * 32,
        reply_to=[],
    )
    return env["id"]


@pytest.mark.parametrize("sender_known", [True, False], ids=["from-outbox", "sender-unknown"])
def test_the_worker_runs_an_action_with_four_queries(sender_known):
    """With the sender in the task message (the outbox puts it there) the claim and the
    access go in one round trip; without it, one after the other: four statements both."""
    run: dict = dict(channel="user", schema="acme", worker="queries-test")
    if sender_known:
        run["actor_id"] = User.objects.get(email="member@acme.test").pk
    assert executor.execute(record_id=_stored_record(), **run) == "ok"  # warm
    record_id = _stored_record()
    with CaptureQueriesContext(connection) as captured:
        assert executor.execute(record_id=record_id, **run) == "ok"
    statements = _statements(captured.captured_queries)
    assert len(statements) == 4, statements
    claim, access, handler, finish = statements
    assert claim.startswith('-- record_claim\nUPDATE "acme"."actions_actionrecord"')
    assert access.startswith("-- access_resolve")
    assert 'INSERT INTO "actions_ctaevent"' in handler
    assert finish.startswith('-- record_finish\nUPDATE "acme"."actions_actionrecord"')
    # One transaction: the handler's write and the result commit together.
    control = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(CONTROL)]
    assert control.count("COMMIT") == 1, control
    assert len([c for c in control if c.startswith("SET search_path")]) <= 1, control
