"""Periodic work over every tenant schema asks all of them at once which have work
(tenants/schema_scan.py), and visits only those."""

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from actions import records
from actions.delivery import fairness, outbox
from actions.models import ActionRecord
from actions.worker import retention
from tenants import schema_scan
from tests.records import stored

pytestmark = pytest.mark.usefixtures("workers")


def _record(schema: str, **fields) -> ActionRecord:
    return stored(schema, sender="member@beta.test", **fields)


@pytest.mark.parametrize("batch", [1, 2, 25])
def test_only_the_schemas_holding_a_matching_row_are_named(monkeypatch, batch):
    monkeypatch.setattr(schema_scan, "BATCH", batch)
    mine = _record("beta", status="ok")
    other = uuid.uuid4()
    schemas = outbox.record_schemas()
    assert len(schemas) > batch  # more than one query

    def found(record_id):
        return schema_scan.schemas_with_rows(
            schemas, table="actions_actionrecord", where="id = %(id)s", params={"id": record_id}
        )

    assert found(mine.id) == {"beta"}
    assert found(other) == set()
    assert (
        schema_scan.schemas_with_rows([], table="actions_actionrecord", where="true", params={})
        == set()
    )


def _entered(monkeypatch, module) -> list[str]:
    """The schemas `module`'s loop switches to."""
    entered: list[str] = []
    real = module.schema_context

    def spy(schema):
        entered.append(schema)
        return real(schema)

    monkeypatch.setattr(module, "schema_context", spy)
    return entered


def test_the_sweep_visits_only_schemas_with_stale_records_or_held_slots(monkeypatch):
    stale = _record(
        "beta",
        status="running",
        attempts=1,
        published_at=timezone.now(),
        started_at=timezone.now() - timedelta(seconds=records.LEASE_GRACE_S + 600),
    )
    schemas = outbox.record_schemas()
    stale_before = schema_scan.schemas_with_rows(
        schemas, table="actions_actionrecord", where=outbox._STALE, params=_stale_params()
    )
    assert "beta" in stale_before
    held = set()
    for channel in ("user", "admin"):
        if fairness.cap(channel):
            held |= set(fairness.held(channel, schemas))
    entered = _entered(monkeypatch, outbox)
    assert outbox.sweep() >= 1  # the stale record, published again
    assert "beta" in entered
    assert len(entered) < len(schemas)  # those with nothing to do were not visited
    assert set(entered) <= stale_before | held
    deadline = time.monotonic() + 15  # the record runs again and finishes
    while time.monotonic() < deadline:
        with schema_context("beta"):
            if ActionRecord.objects.get(id=stale.id).finished:
                break
        time.sleep(0.05)
    with schema_context("beta"):
        assert ActionRecord.objects.get(id=stale.id).attempts == 2


def _stale_params() -> dict:
    from django.conf import settings

    now = timezone.now()
    return {
        "accepted": "accepted",
        "created_before": now - timedelta(seconds=settings.SWITCHBOARD["OUTBOX_GRACE_SECONDS"]),
        "running": "running",
        "started_before": now - timedelta(seconds=records.LEASE_GRACE_S),
    }


def test_the_purge_visits_only_schemas_with_secrets_to_redact(monkeypatch):
    names = retention.actions_with_secret_results()
    assert "auth.login" in names
    due = _record(
        "beta",
        status="ok",
        result={"access_token": "eyJsecret", "refresh_token": "eyJother"},
        finished_at=timezone.now() - timedelta(days=1),
    )
    with schema_context("beta"):
        ActionRecord.objects.filter(id=due.id).update(action="auth.login")
    entered = _entered(monkeypatch, retention)
    assert retention.purge_secrets() >= 1
    assert "beta" in entered and len(entered) < len(outbox.record_schemas())
    with schema_context("beta"):
        purged = ActionRecord.objects.get(id=due.id)
    assert purged.result["access_token"] == "[redacted]" and purged.secrets_purged_at
