"""config.db's batches on the real database.

- ASYNC_COMMIT switches the WAL flush off for its own batch only, and without PostgreSQL's
  "SET LOCAL can only be used in transaction blocks" warning (a plain SET LOCAL in a
  pipeline's implicit transaction takes effect but writes that warning to the server log
  at every batch: the outbox's marks and every claim of the long way).
- Inside Django's `atomic`, the first batch carries the BEGIN, and `commit=True` the
  COMMIT, in its one round trip (one Sync, from libpq's trace of what was sent): the
  worker's first delivery costs two round trips fewer."""

import contextlib
import tempfile
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, transaction

from config.db import ASYNC_COMMIT, IDLE, execute_prepared_batch

SHOW = ("SELECT current_setting('synchronous_commit')", (), "show")


def test_async_commit_holds_for_its_batch_only_and_warns_nothing():
    connection.ensure_connection()
    notices = []

    def notice(diag):
        notices.append(diag.message_primary)

    connection.connection.add_notice_handler(notice)
    try:
        (_, _), ((inside,), _) = execute_prepared_batch([ASYNC_COMMIT, SHOW])
        ((after,), _) = execute_prepared_batch([SHOW])[0]
    finally:
        connection.connection.remove_notice_handler(notice)
    assert (inside, after) == ("off", "on")
    assert notices == []


@contextlib.contextmanager
def _messages_sent() -> Iterator[list[str]]:
    """The protocol messages this connection sends meanwhile (libpq's trace)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    sent: list[str] = []
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        try:
            yield sent
        finally:
            pgconn.untrace()
            trace.seek(0)
            for line in trace:
                fields = line.split("\t")
                if len(fields) > 3 and fields[1] == "F":
                    sent.append(" ".join(fields[3:]).strip())


def test_a_transactions_first_batch_carries_its_begin_and_commit_in_one_round_trip():
    committed = []
    with _messages_sent() as sent, transaction.atomic():
        transaction.on_commit(lambda: committed.append(True))
        ((xid, _),) = execute_prepared_batch([("SELECT txid_current()", (), "xid")], commit=True)
    syncs = [m for m in sent if m == "Sync"]
    begins = [m for m in sent if m.startswith("Parse") and '"BEGIN"' in m]
    commits = [m for m in sent if m.startswith("Parse") and '"COMMIT"' in m]
    assert (len(syncs), len(begins), len(commits)) == (1, 1, 1), sent
    assert committed == [True]  # the atomic block still ran its on_commit hooks
    assert connection.connection.pgconn.transaction_status == IDLE
    with connection.cursor() as cursor:  # committed: the transaction id is over
        cursor.execute("SELECT txid_status(%s)", [xid[0]])
        assert cursor.fetchone()[0] == "committed"


def test_statements_after_the_first_batch_stay_in_its_transaction():
    with transaction.atomic():
        ((xid,), _) = execute_prepared_batch([("SELECT txid_current()", (), "xid")])[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current()")
            assert cursor.fetchone()[0] == xid
        ((again,), _) = execute_prepared_batch([("SELECT txid_current()", (), "xid")])[0]
        assert again == xid
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_status(%s)", [xid])
        assert cursor.fetchone()[0] == "committed"


def test_a_failing_first_batch_rolls_its_transaction_back():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS batch_probe (n int)")
        cursor.execute("TRUNCATE batch_probe")
    with pytest.raises(DatabaseError), transaction.atomic():
        execute_prepared_batch(
            [("INSERT INTO batch_probe VALUES (1)", (), "write"), ("SELECT 1/0", (), "fails")]
        )
    with connection.cursor() as cursor:  # the connection serves, and nothing was kept
        cursor.execute("SELECT count(*) FROM batch_probe")
        assert cursor.fetchone()[0] == 0
