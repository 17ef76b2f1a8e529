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
from django.db.transaction import TransactionManagementError

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


def _round_trips(sent: list[str]) -> int:
    """Extended-protocol Syncs and simple-protocol Queries: each waits for an answer."""
    return sum(1 for m in sent if m == "Sync" or m.startswith("Query"))


def _named(sent: list[str], command: str) -> int:
    return sum(1 for m in sent if m.startswith(("Parse", "Query")) and f'"{command}"' in m)


def test_a_transactions_first_batch_carries_its_begin_and_commit_in_one_round_trip():
    committed = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(True))
        with _messages_sent() as sent:
            ((xid, _),) = execute_prepared_batch(
                [("SELECT txid_current()", (), "xid")], commit=True
            )
        # Committed by the batch itself, before the block ends.
        assert connection.connection.pgconn.transaction_status == IDLE
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_status(%s)", [xid[0]])
            assert cursor.fetchone()[0] == "committed"
    assert (_round_trips(sent), _named(sent, "BEGIN"), _named(sent, "COMMIT")) == (1, 1, 1), sent
    assert committed == [True]  # the atomic block still ran its on_commit hooks


def test_a_single_statement_opening_a_transaction_is_one_round_trip():
    with transaction.atomic():
        with _messages_sent() as sent:
            ((xid,), _) = execute_prepared_batch([("SELECT txid_current()", (), "xid")])[0]
        assert (_round_trips(sent), _named(sent, "BEGIN")) == (1, 1), sent
        with connection.cursor() as cursor:  # later statements: the same transaction
            cursor.execute("SELECT txid_current()")
            assert cursor.fetchone()[0] == xid
        ((again,), _) = execute_prepared_batch([("SELECT txid_current()", (), "xid")])[0]
        assert again == xid
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_status(%s)", [xid])
        assert cursor.fetchone()[0] == "committed"


@pytest.fixture
def probe_table():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS batch_probe (n int)")
        cursor.execute("TRUNCATE batch_probe")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS batch_probe")


def _probe_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM batch_probe")
        return cursor.fetchone()[0]


def test_the_first_batchs_writes_roll_back_with_its_block(probe_table):
    """The batch ran inside the block's transaction, not in one of its own: an error later
    in the block takes its write back."""
    with pytest.raises(RuntimeError), transaction.atomic():
        execute_prepared_batch([("INSERT INTO batch_probe VALUES (1)", (), "write")])
        assert _probe_rows() == 1
        raise RuntimeError("the handler failed")
    assert _probe_rows() == 0


def test_a_failing_first_batch_leaves_a_connection_that_serves(probe_table):
    with pytest.raises(DatabaseError), transaction.atomic():
        execute_prepared_batch(
            [("INSERT INTO batch_probe VALUES (1)", (), "write"), ("SELECT 1/0", (), "fails")]
        )
    assert _probe_rows() == 0
    with transaction.atomic():  # the next block opens its own transaction as usual
        execute_prepared_batch([("INSERT INTO batch_probe VALUES (2)", (), "write")])
    assert _probe_rows() == 1


def test_a_batch_commits_only_from_the_outermost_block(probe_table):
    with transaction.atomic(), transaction.atomic():
        with pytest.raises(TransactionManagementError):
            execute_prepared_batch([("INSERT INTO batch_probe VALUES (1)", (), "w")], commit=True)
    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            execute_prepared_batch([("INSERT INTO batch_probe VALUES (1)", (), "w")], commit=True)
    assert _probe_rows() == 0


def _ours_prepared() -> dict[str, int]:
    """This connection's statements prepared by config.db: text -> generic plans so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans FROM pg_prepared_statements "
            "WHERE name LIKE '\\_sb\\_%'"
        )
        return dict(cursor.fetchall())


@pytest.fixture
def own_connection():
    connection.close()
    yield
    connection.close()


def test_a_statement_is_prepared_once_and_kept_across_a_rollback(own_connection, probe_table):
    """psycopg deallocates every statement it prepared at each ROLLBACK; config.db keeps
    its own, so a handler's failure does not cost the connection its plans."""
    probe = ("SELECT count(*) FROM batch_probe WHERE n > %s", [0], "probe")
    execute_prepared_batch([probe])
    with pytest.raises(RuntimeError), transaction.atomic():
        execute_prepared_batch([probe])
        raise RuntimeError("rolled back")
    row, count = execute_prepared_batch([probe])[0]
    assert (row, count) == ([0], 1)
    [(text, plans)] = [(t, n) for t, n in _ours_prepared().items() if "batch_probe" in t]
    assert text == "SELECT count(*) FROM batch_probe WHERE n > $1" and plans == 3


def test_the_least_recently_used_statements_are_closed_past_the_limit(own_connection, monkeypatch):
    monkeypatch.setattr("config.db.PREPARED_MAX", 3)
    for n in range(6):
        [(row, _)] = execute_prepared_batch([(f"SELECT {n} + %s", [1], "n")])
        assert row == [n + 1]
    kept = sorted(t for t in _ours_prepared() if t.startswith("SELECT "))
    assert kept == ["SELECT 3 + $1", "SELECT 4 + $1", "SELECT 5 + $1"]
    assert execute_prepared_batch([("SELECT 0 + %s", [1], "again")])[0][0] == [1]


def test_a_statement_that_fails_to_prepare_is_not_taken_for_prepared(own_connection):
    for _ in range(2):  # the same error again, not "prepared statement does not exist"
        with pytest.raises(DatabaseError, match="no_such_table"):
            execute_prepared_batch([("SELECT * FROM no_such_table WHERE 1 = %s", [1], "bad")])
    assert not [t for t in _ours_prepared() if "no_such_table" in t]
    assert execute_prepared_batch([("SELECT %s::int", [7], "good")])[0][0] == [7]


def test_a_statement_after_a_failing_one_is_prepared_by_a_later_batch(own_connection):
    """Within a batch, what follows an error is skipped by the server, its preparation
    too: it must be prepared again next time, not executed by a name the server lacks."""
    later = ("SELECT %s::int + 1", [1], "later")
    with pytest.raises(DatabaseError):
        execute_prepared_batch([("SELECT 1/0 + %s", [1], "fails"), later])
    assert execute_prepared_batch([later])[0][0] == [2]


def test_a_connection_lost_in_a_batch_raises_and_is_replaced(own_connection):
    from actions.connections import connection_ready

    with pytest.raises(DatabaseError):
        execute_prepared_batch(
            [("SELECT pg_terminate_backend(pg_backend_pid()) AND %s", [True], "dies")]
        )
    assert connection.errors_occurred
    connection_ready()
    assert execute_prepared_batch([("SELECT %s::int", [1], "fresh")])[0][0] == [1]


def test_a_statement_twice_in_a_batch_is_prepared_once(own_connection):
    twice = ("SELECT %s::int * 2", [21], "twice")
    assert [row for row, _ in execute_prepared_batch([twice, twice])] == [[42], [42]]
    assert [t for t in _ours_prepared() if "* 2" in t] == ["SELECT $1::int * 2"]


def test_the_sync_is_sent_through_the_loaded_libpq_without_the_gil():
    """On psycopg's binary build (the pinned one), the Sync and the flush go through the
    libpq it loaded, called by ctypes, which lets go of the GIL for the call."""
    import psycopg

    from config import db

    assert psycopg.pq.__impl__ == "binary" and db._LIBPQ is not None
    assert db._LIBPQ.PQlibVersion() == psycopg.pq.version()


def test_a_batch_runs_the_same_on_psycopgs_own_binding(own_connection, monkeypatch):
    monkeypatch.setattr("config.db._LIBPQ", None)
    with transaction.atomic():
        [(row, _), (other, _)] = execute_prepared_batch(
            [("SELECT %s::int", [5], "a"), ("SELECT %s::text", ["b"], "b")], commit=True
        )
    assert (row, other) == ([5], ["b"])
    assert connection.connection.pgconn.transaction_status == IDLE


def test_statements_the_server_dropped_are_prepared_again(own_connection, probe_table):
    """Someone sent DEALLOCATE ALL on the connection. In autocommit the batch is sent
    again at once (its implicit transaction rolled back whole: nothing ran twice); in a
    transaction, the error ends it, and the next batch prepares the statement again."""
    probe = ("INSERT INTO batch_probe VALUES (%s) RETURNING n", [1], "probe")
    assert execute_prepared_batch([probe])[0][0] == [1]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert execute_prepared_batch([probe])[0][0] == [1]
    assert _probe_rows() == 2  # once each: the failed try wrote nothing
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError, match="does not exist"), transaction.atomic():
        execute_prepared_batch([probe])
    assert execute_prepared_batch([probe])[0][0] == [1]
    assert _probe_rows() == 3


def test_a_statement_is_known_by_its_parameters_types_too(own_connection):
    """psycopg sends an int as int2, int4 or int8 after its value, and None untyped: one
    prepared statement per set of types, as psycopg keeps its own, or the server reads a
    value of one size with a plan made for another."""
    widen = ("SELECT %s::bigint", "widen")
    for value in (1, 2**20, None, 1, 2**40, 7):
        assert execute_prepared_batch([(widen[0], [value], widen[1])])[0][0] == [value]


def test_a_failing_batch_still_closes_what_it_evicts(own_connection, monkeypatch):
    monkeypatch.setattr("config.db.PREPARED_MAX", 2)
    for n in range(2):
        execute_prepared_batch([(f"SELECT {n} + %s", [1], "n")])
    with pytest.raises(DatabaseError):  # evicts one while failing
        execute_prepared_batch([("SELECT 9 + %s", [1], "new"), ("SELECT 1/0", (), "fails")])
    assert len(_ours_prepared()) <= 2, _ours_prepared()


def test_copy_is_refused_and_the_connection_recovers(own_connection):
    with pytest.raises(DatabaseError, match="COPY"):
        execute_prepared_batch([("COPY (SELECT 1) TO STDOUT", (), "copy")])
    from actions.connections import connection_ready

    connection_ready()
    assert execute_prepared_batch([("SELECT %s::int", [3], "after")])[0][0] == [3]


def test_a_batch_interrupted_midway_leaves_the_connection_marked_for_replacement(
    own_connection, monkeypatch
):
    """Anything raised while results are unread (a soft time limit, an interrupt) closes
    the connection and tells Django, which drops it before the next unit of work."""
    from config import db

    def interrupted(pgconn, expected):
        raise KeyboardInterrupt

    monkeypatch.setattr(db, "_read_until_sync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        execute_prepared_batch([("SELECT pg_sleep(0.01) IS NULL AND %s", [True], "slow")])
    assert connection.errors_occurred
    monkeypatch.undo()
    from actions.connections import connection_ready

    connection_ready()
    assert execute_prepared_batch([("SELECT %s::int", [4], "after")])[0][0] == [4]


def test_a_statement_whose_table_changed_shape_is_prepared_afresh(own_connection):
    """A plan cached for a table whose column changed type no longer fits ("cached plan
    must not change result type"): that statement fails once, then is prepared again."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE shape_probe (n int)")
        cursor.execute("INSERT INTO shape_probe VALUES (1)")
    probe = ("SELECT * FROM shape_probe WHERE %s::int >= 0", [1], "shape")
    assert execute_prepared_batch([probe])[0][0] == [1]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shape_probe ALTER COLUMN n TYPE text")
    with pytest.raises(DatabaseError, match="cached plan must not change result type"):
        execute_prepared_batch([probe])
    assert execute_prepared_batch([probe])[0][0] == ["1"]


def test_a_batch_larger_than_the_sockets_buffers_both_ways_does_not_stall(own_connection):
    """While libpq still sends a big batch, the server already answers its first
    statements; once both sockets' buffers are full, each side would wait for the other,
    but libpq's flush reads the answers in when it cannot send (24 MB each way here)."""
    big = "x" * 1_000_000
    results = execute_prepared_batch([("SELECT %s::text", [big], f"echo {n}") for n in range(24)])
    assert [len(row[0]) for row, _count in results] == [len(big)] * 24
