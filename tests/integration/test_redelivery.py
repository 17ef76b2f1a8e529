"""A redelivered message takes its running record over at once, and the attempt count
fences the old holder off; a lost database is `unavailable`, not a bug (issue 12)."""

import pytest
from django.db import OperationalError
from django_tenants.utils import schema_context

from actions.connections import dependency_lost
from actions.models import ActionRecord
from actions.records import LeaseLost, record_finish
from tests.integration.test_outbox_and_channels import _stored


def test_a_redelivered_running_record_is_taken_over_at_once():
    from actions.worker import executor

    record = _stored("system.index", status="running", started_ago_s=1, attempts=1)
    run = {"channel": "user", "schema": "acme", "record_id": str(record.id), "worker": "w2"}
    assert executor.execute(**run) == "skipped"  # a duplicate while the lease runs
    assert executor.execute(**run, redelivered=True) == "ok"  # its holder's connection died
    with schema_context("acme"):
        assert ActionRecord.objects.get(id=record.id).attempts == 2


def test_the_old_holder_of_a_taken_over_record_cannot_finish_it():
    record = _stored("system.index", status="running", started_ago_s=1, attempts=1)
    with schema_context("acme"):
        ActionRecord.objects.filter(id=record.id).update(attempts=2)  # taken over
        record.status, record.result = "ok", {}
        with pytest.raises(LeaseLost):
            record_finish(schema="acme", record=record)  # attempt 1 is fenced off
        assert ActionRecord.objects.get(id=record.id).status == "running"


def test_a_lost_connection_is_a_dependency_not_a_bug():
    assert dependency_lost(OperationalError("server closed the connection")) == "database"
    assert dependency_lost(ConnectionRefusedError(111, "refused")) == "broker"
    wrapped = RuntimeError("while publishing")
    wrapped.__cause__ = OperationalError("terminating connection due to administrator command")
    assert dependency_lost(wrapped) == "database"
    assert dependency_lost(ValueError("a bug")) is None
