"""A first delivery holds its record's row from the claim to the commit
(actions.worker.executor). Nobody else may wait on that lock for the handler's duration:
the edge answering the same id again reads the record without it, and the outbox's sweep
leaves a held record alone (it is running, not stale)."""

import json
import time

import psycopg
import pytest
from django.conf import settings

from actions.contract.registry import Channel
from actions.delivery import outbox
from actions.edge.pipeline import Ingress, submit
from tests.conftest import envelope

CTA = {"surface": "lock-test", "cta_id": "signup", "event": "click"}


@pytest.fixture
def held(monkeypatch):
    """Stored records that nothing publishes, and a second connection to lock one with,
    as a worker's first delivery does."""
    monkeypatch.setattr(outbox, "publish", lambda **kwargs: None)
    db = settings.DATABASES["default"]
    other = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]
    )

    def lock(record_id: str) -> None:
        other.execute(
            "SELECT id FROM acme.actions_actionrecord WHERE id = %s FOR UPDATE", [record_id]
        )

    yield lock
    other.rollback()
    other.close()


def _submit(token: str, env: dict, reply_to: str | None = None):
    ingress = Ingress(
        channel=Channel.USER,
        body=json.dumps(env).encode(),
        authorization=f"Bearer {token}",
        reply_to=reply_to,
    )
    return submit(ingress)


def test_the_same_id_while_its_action_runs_is_answered_at_once(held, tokens):
    token = tokens["member@acme.test"]
    env = envelope("analytics.cta.record", CTA)
    assert _submit(token, env).envelope["status"] == "pending"
    held(env["id"])
    started = time.monotonic()
    again = _submit(token, env)
    assert time.monotonic() - started < 2, "waited for the worker's lock"
    assert again.envelope["status"] == "pending" and again.envelope["id"] == env["id"]
    # ... and another payload under that id is still a conflict, lock or not.
    other = {**env, "payload": {**CTA, "cta_id": "another"}}
    refused = _submit(token, other)
    assert refused.envelope["error"]["code"] == "conflict", refused.envelope


def test_the_sweep_leaves_a_record_that_a_worker_holds(held, tokens, monkeypatch):
    # The lock is the question, not fair scheduling: no slots, so that what earlier tests
    # left in flight cannot hold the sweep's records back for a publisher to send later.
    conf = {**settings.SWITCHBOARD, "TENANT_INFLIGHT_CAP": {"user": 0, "admin": 0}}
    monkeypatch.setattr(settings, "SWITCHBOARD", conf)
    token = tokens["member@acme.test"]
    envs = [envelope("analytics.cta.record", CTA) for _ in range(2)]
    for env in envs:
        assert _submit(token, env).envelope["status"] == "pending"
    held(envs[0]["id"])
    published: list[str] = []
    real = outbox.task_message

    def spy(item, **kwargs):
        published.extend(one.record_id for one in [item, *kwargs.get("also", ())])
        return real(item, **kwargs)

    monkeypatch.setattr(outbox, "task_message", spy)
    time.sleep(0.05)
    outbox.sweep(older_than_s=0)
    assert envs[1]["id"] in published  # stale: stored, never published
    assert envs[0]["id"] not in published  # held by a worker: running now


def test_marking_published_skips_a_record_that_a_worker_holds(held, tokens):
    from django_tenants.utils import schema_context

    from actions.models import ActionRecord
    from actions.records import records_mark_published

    token = tokens["member@acme.test"]
    envs = [envelope("analytics.cta.record", CTA) for _ in range(2)]
    for env in envs:
        assert _submit(token, env).envelope["status"] == "pending"
    held(envs[0]["id"])
    started = time.monotonic()
    records_mark_published(schema="acme", record_ids=[env["id"] for env in envs])
    assert time.monotonic() - started < 2, "waited for the worker's lock"
    with schema_context("acme"):
        marked = dict(
            ActionRecord.objects.filter(id__in=[e["id"] for e in envs]).values_list(
                "id", "published_at"
            )
        )
    assert {str(k): v is not None for k, v in marked.items()} == {
        envs[0]["id"]: False,  # held: its worker's outcome sets published_at
        envs[1]["id"]: True,
    }


def test_an_error_before_the_handler_sends_the_record_the_long_way(monkeypatch, tokens):
    from django_tenants.utils import schema_context

    from actions.models import ActionRecord
    from actions.worker import executor
    from tenants.models import User

    monkeypatch.setattr(outbox, "publish", lambda **kwargs: None)
    env = envelope("analytics.cta.record", CTA)
    assert _submit(tokens["member@acme.test"], env).envelope["status"] == "pending"
    real, calls = executor._context, []

    def fails_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug before the handler")
        return real(*args)

    monkeypatch.setattr(executor, "_context", fails_once)
    member = User.objects.get(email="member@acme.test")
    status = executor.execute(
        channel="user", schema="acme", record_id=env["id"], worker="w", actor_id=member.pk
    )
    with schema_context("acme"):
        record = ActionRecord.objects.get(id=env["id"])
    assert len(calls) == 2  # the short way failed, the long way ran it
    assert (status, record.status, record.attempts) == ("ok", "ok", 1)
