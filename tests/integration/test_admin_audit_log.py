"""The admin audit log: append-only in the application and in the database, and a hash
chain that names the first edited, deleted or reordered entry.

Tampering runs inside a transaction that is rolled back, with triggers switched off
the way an attacker with database superuser rights would.
"""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit import admin_log as audit
from audit.models import AdminAuditEntry, AppendOnlyError


def _write(n: int) -> list[AdminAuditEntry]:
    return [
        audit.admin_audit_write(
            actor="owner@acme.test",
            tenant="acme",
            action="tenants.config.set",
            outcome="ok",
            payload_summary={"config": {"theme": "str:4"}, "password": "hunter2"},
            reason=f"entry {i}",
        )
        for i in range(n)
    ]


class _Rollback(Exception):
    pass


def _tampered(tamper, batch=5000):
    """Write three entries, tamper as `tamper(a, b, c)` says, verify (`batch` entries a
    page), roll it all back."""
    verdict = None
    try:
        with transaction.atomic():
            entries = _write(3)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
                tamper(cursor, *entries)
            verdict = audit.audit_verify(batch=batch)
            raise _Rollback
    except _Rollback:
        pass
    return verdict, entries


def test_entries_chain_and_verify(capsys):
    first, second = _write(2)
    assert second.seq == first.seq + 1 and second.prev_hash == first.hash
    assert first.payload_summary["password"] == "[redacted]"  # scrubbed on the way in
    assert audit.audit_verify().ok
    call_command("audit_verify")
    assert "intact" in capsys.readouterr().out


def test_the_application_cannot_change_or_delete_an_entry():
    (entry,) = _write(1)
    entry.outcome = "error"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AdminAuditEntry.objects.filter(pk=entry.pk).update(outcome="error")
    with pytest.raises(AppendOnlyError):
        AdminAuditEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_adminauditentry SET outcome = 'error' WHERE id = %s",
        "DELETE FROM audit_adminauditentry WHERE id = %s",
        "TRUNCATE audit_adminauditentry",
    ],
)
def test_the_database_refuses_update_delete_and_truncate(statement):
    (entry,) = _write(1)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk] if "%s" in statement else None)
    assert AdminAuditEntry.objects.filter(pk=entry.pk, outcome="ok").exists()


@pytest.mark.parametrize("batch", [5000, 1])  # one page, and a page an entry
def test_verify_names_an_edited_entry(batch):
    def edit(cursor, a, b, c):
        cursor.execute(
            "UPDATE audit_adminauditentry SET reason = 'nothing happened' WHERE id = %s", [b.pk]
        )

    verdict, (a, b, c) = _tampered(edit, batch)
    assert not verdict.ok and verdict.first_bad_seq == b.seq
    assert "changed" in verdict.problem


@pytest.mark.parametrize("batch", [5000, 1])  # one page, and a page an entry
def test_verify_names_the_entry_after_a_deleted_one(batch):
    def delete(cursor, a, b, c):
        cursor.execute("DELETE FROM audit_adminauditentry WHERE id = %s", [b.pk])

    verdict, (a, b, c) = _tampered(delete, batch)
    assert not verdict.ok and verdict.first_bad_seq == c.seq
    assert "missing" in verdict.problem


@pytest.mark.parametrize("batch", [5000, 1])  # one page, and a page an entry
def test_verify_names_a_reordered_entry(batch):
    def swap(cursor, a, b, c):  # a and b trade places
        cursor.execute("UPDATE audit_adminauditentry SET seq = -1 WHERE id = %s", [a.pk])
        cursor.execute("UPDATE audit_adminauditentry SET seq = %s WHERE id = %s", [a.seq, b.pk])
        cursor.execute("UPDATE audit_adminauditentry SET seq = %s WHERE id = %s", [b.seq, a.pk])

    verdict, (a, b, c) = _tampered(swap, batch)
    assert not verdict.ok and verdict.first_bad_seq == a.seq


def test_verify_command_fails_on_a_tampered_log():
    def edit(cursor, a, b, c):
        cursor.execute("UPDATE audit_adminauditentry SET actor = 'x@y.test' WHERE id = %s", [a.pk])

    try:
        with transaction.atomic():
            entries = _write(2)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                edit(cursor, *entries, None)
            with pytest.raises(CommandError, match=f"entry {entries[0].seq}"):
                call_command("audit_verify")
            raise _Rollback
    except _Rollback:
        pass
    assert audit.audit_verify().ok  # rolled back: the real log is intact
