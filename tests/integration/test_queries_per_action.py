"""Queries per action, pinned: a change that adds a round trip to the hot path shows here.

The edge stores an accepted action with two statements (who is calling on which tenant
with which roles; the record's INSERT). The worker runs a first delivery in one
transaction with five statements in three round trips (BEGIN with the search_path, the
record's lock and the roles again, which may have changed; the handler's INSERT; the
result with the COMMIT); an older message without its sender takes four statements and two commits.
Publishing is not a query (the outbox marks a whole batch published with one UPDATE per
schema, on its own thread)."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from actions.contract.registry import Channel
from actions.edge.pipeline import Ingress, submit
from actions.models import ActionRecord, CtaEvent
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
    "-- async commit",  # SET LOCAL synchronous_commit = off (set_config), sent with the claim
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


def _stored_record(payload: dict | None = None) -> str:
    member = User.objects.get(email="member@acme.test")
    env = envelope("analytics.cta.record", payload or CTA)
    record_store(
        schema="acme",
        id=env["id"],
        action="analytics.cta.record",
        version=1,
        channel="user",
        transport="rest",
        actor_id=member.pk,
        actor_email=member.email,
        payload=payload or CTA,
        payload_hash="-",
        meta={},
        trace_id="t" * 32,
        reply_to=[],
    )
    return env["id"]


def test_a_first_delivery_runs_in_one_transaction_with_five_statements():
    """With the sender in the task message (the outbox puts it there), a first delivery
    sends the search_path, the record's lock (its claim) and the access in one round
    trip, then the handler's INSERT, then the result with the COMMIT: one transaction, one
    UPDATE of the record, and no `SET search_path`."""
    run: dict = dict(channel="user", schema="acme", worker="queries-test")
    run["actor_id"] = User.objects.get(email="member@acme.test").pk
    assert executor.execute(record_id=_stored_record(), **run) == "ok"  # warm
    record_id = _stored_record()
    with CaptureQueriesContext(connection) as captured:
        assert executor.execute(record_id=record_id, **run) == "ok"
    statements = _statements(captured.captured_queries)
    assert len(statements) == 5, statements
    search_path, claim, access, handler, finish = statements
    assert search_path.startswith("-- search_path\nSELECT set_config('search_path'")
    # The claim is the row lock: the record goes from accepted to ok in one UPDATE.
    assert claim.startswith('-- record_lock\nSELECT "id"')
    assert claim.endswith("FOR UPDATE")
    # Its own text for acme: one shared by every tenant would be planned again at each
    # change of search_path (tenants.services.access_statement).
    assert access.startswith("-- access_resolve\n/* acme */")
    assert 'INSERT INTO "actions_ctaevent"' in handler
    assert finish.startswith('-- record_finish_accepted\nUPDATE "acme"."actions_actionrecord"')
    control = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(CONTROL)]
    assert control.count("COMMIT") <= 1, control
    assert not [c for c in control if c.startswith(("SET search_path", "-- async commit"))]
    with schema_context("acme"):
        record = ActionRecord.objects.get(id=record_id)
    assert (record.status, record.attempts, record.published_at is not None) == ("ok", 1, True)


def test_a_failed_first_delivery_writes_its_error_in_one_statement():
    """The action fails (here its stored payload no longer fits its schema): the claim
    rolls back with the transaction, and the error goes from `accepted` to `error` in one
    statement, with the attempt counted."""
    member = User.objects.get(email="member@acme.test")
    record_id = _stored_record(payload={**CTA, "event": "not-an-event"})
    with CaptureQueriesContext(connection) as captured:
        status = executor.execute(
            record_id=record_id, channel="user", schema="acme", worker="q", actor_id=member.pk
        )
    statements = _statements(captured.captured_queries)
    with schema_context("acme"):
        record = ActionRecord.objects.get(id=record_id)
        assert not CtaEvent.objects.filter(message_id=record_id).exists()
    assert (status, record.status, record.attempts) == ("error", "error", 1), record.error
    assert statements[-1].startswith("-- record_finish_accepted"), statements


def test_the_worker_runs_an_action_with_four_queries_without_the_sender():
    """Without the sender in the task message (an older one), the claim and the access go
    one after the other: four statements."""
    run: dict = dict(channel="user", schema="acme", worker="queries-test")
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


def test_the_long_way_sets_the_tenants_search_path_with_its_claim():
    """A redelivered message takes the long way: its claim commits on its own. The
    tenant's search_path travels in the claim's batch, as on the short way, so that the
    access statement meets the search_path its plan was made for and the handler's
    queries need no `SET search_path` of their own."""
    run: dict = dict(channel="user", schema="acme", worker="queries-test", redelivered=True)
    run["actor_id"] = User.objects.get(email="member@acme.test").pk
    with schema_context("beta"):  # the connection's search_path is another tenant's
        ActionRecord.objects.exists()
    record_id = _stored_record()
    with CaptureQueriesContext(connection) as captured:
        assert executor.execute(record_id=record_id, **run) == "ok"
    statements = _statements(captured.captured_queries)
    search_path, claim, access = statements[:3]
    assert search_path.startswith("-- search_path\nSELECT set_config('search_path'"), statements
    assert claim.startswith('-- record_claim\nUPDATE "acme"."actions_actionrecord"')
    assert access.startswith("-- access_resolve\n/* acme */")
    assert any('INSERT INTO "actions_ctaevent"' in s for s in statements[3:]), statements
    control = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(CONTROL)]
    assert not [c for c in control if c.startswith("SET search_path")], control
