"""Prepared statements for the hot path, shared by every package.

Django's PostgreSQL cursors bind parameters on the client, so PostgreSQL parses and plans
every statement anew: for the few statements every action runs (who is calling, store,
claim, finish) that costs more server time than running them (docs/performance.md).
These run through psycopg's server-side binding with `prepare=True`: planned once per
connection (a generic plan: `plan_cache_mode` in config/settings/base.py), then executed.
Only statements whose tables are all named with their schema may go through here, so that
a plan can never follow a changed search_path elsewhere. PostgreSQL still plans a
prepared statement again whenever the search_path differs from its last execution: a
statement that a worker runs for every tenant, each under its own path, is therefore
given one text per tenant (tenants.services.access_statement's `schema`).

Each statement is added to Django's query log when it is on (tests count queries with
CaptureQueriesContext), as Django's own debug cursor does.
"""

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection
from django.db.transaction import TransactionManagementError
from psycopg.pq import TransactionStatus

NEVER_AUTOMATICALLY = 2**31 - 1
# Prepared statements a connection keeps (psycopg's default is 100), least recently used
# deallocated first. The hot statements name their tenant's schema, so each tenant has its
# own: a worker connection serving its share of 1,000 tenants (actions.connections.
# TenantConnections) keeps about 4 a tenant. A generic plan of one of them takes a few KB
# of the server's memory.
PREPARED_MAX = 2000
IDLE = TransactionStatus.IDLE
# First statement of a batch whose commit may skip waiting for its WAL flush (the batch is
# one implicit transaction, so the setting ends with it). Only for writes that are safe
# to lose in a database crash: see their callers. `set_config(..., true)` is SET LOCAL
# without its warning: PostgreSQL applies SET LOCAL to a pipeline's implicit transaction
# but still warns "can only be used in transaction blocks", one server log line a batch.
ASYNC_COMMIT = ("SELECT set_config('synchronous_commit', 'off', true)", (), "async commit")


def execute_prepared(
    statement: str | bytes | psycopg.sql.Composed,
    params: Sequence[Any] | Mapping[str, Any],
    *,
    label: str,
) -> tuple[list[Any] | None, int]:
    """Run one statement prepared; (the first row or None, the row count)."""
    return execute_prepared_batch([(statement, params, label)])[0]


def execute_prepared_batch(
    statements: Sequence[
        tuple[str | bytes | psycopg.sql.Composed, Sequence[Any] | Mapping[str, Any], str]
    ],
    *,
    commit: bool = False,
) -> list[tuple[list[Any] | None, int]]:
    """Statements in one round trip (psycopg's pipeline mode), each prepared; in autocommit
    they share one implicit transaction. [(first row or None, row count)] each.

    Inside Django's `atomic` before its first statement, the transaction's BEGIN goes in
    the same round trip (psycopg would send it alone and wait for its answer).

    `commit`: inside a transaction (Django's `atomic`), the COMMIT goes in the same round
    trip; the block's own commit on exit then finds nothing to do (psycopg skips a COMMIT
    with no transaction open) and still runs its on_commit hooks."""
    connection.ensure_connection()
    pg = connection.connection
    if pg.prepare_threshold is None:
        # Django leaves psycopg's threshold unset, which disables even an explicit
        # `prepare=True`. A threshold no statement reaches keeps automatic preparation off
        # and lets the statements here be prepared.
        pg.prepare_threshold = NEVER_AUTOMATICALLY
        pg.prepared_max = PREPARED_MAX
    started = time.monotonic()
    results: list[tuple[list[Any] | None, int]] = []
    # Django's wrapper: psycopg's errors become django.db's, and a broken connection is
    # marked so that it is dropped before the next unit of work.
    with connection.wrap_database_errors:
        cursors = []
        begin = not pg.autocommit and pg.pgconn.transaction_status == IDLE
        if commit:
            _check_outermost()
        # One statement goes without the pipeline, whose Sync and flush cost twice the
        # client CPU of a plain execute (measured: 101 against 52 us a statement), unless
        # it opens a transaction: then its BEGIN goes with it.
        batched = len(statements) > 1 or commit or begin
        with (
            pg.pipeline() if batched else contextlib.nullcontext(),
            _own_begin(pg) if begin else contextlib.nullcontext(),
        ):
            for statement, params, _label in statements:
                cursor = psycopg.Cursor(pg)
                cursor.execute(statement, params, prepare=True)
                cursors.append(cursor)
            if commit:
                # A statement, not pg.commit(), which would add a Sync (one more round
                # trip) before the pipeline's own.
                psycopg.Cursor(pg).execute(b"COMMIT")
        for cursor in cursors:
            row = cursor.fetchone() if cursor.description else None
            results.append((list(row) if row is not None else None, cursor.rowcount))
            cursor.close()
    if connection.queries_logged:
        took = f"{time.monotonic() - started:.3f}"
        for (statement, _params, label), cursor in zip(statements, cursors, strict=True):
            if isinstance(statement, bytes):
                text = statement.decode()
            elif isinstance(statement, str):
                text = statement
            else:
                text = statement.as_string(cursor)
            connection.queries_log.append({"sql": f"-- {label}\n{text}", "time": took})
    return results


@contextlib.contextmanager
def _own_begin(pg: psycopg.Connection) -> Iterator[None]:
    """The transaction's BEGIN queued in the open pipeline with the statements that follow.
    psycopg, outside autocommit, sends BEGIN before a transaction's first statement and
    then syncs the pipeline to read its answer: a round trip of its own. Here psycopg is
    told it is in autocommit while the batch is queued (its private flag: psycopg is
    pinned in requirements.lock, and tests/integration/test_prepared_batches.py counts the
    round trips), so it adds no BEGIN of its own; ours is psycopg's own start command (the
    connection's isolation level and the rest included)."""
    pg._autocommit = True
    try:
        psycopg.Cursor(pg).execute(pg._get_tx_start_command())
        yield
    finally:
        pg._autocommit = False


def _check_outermost() -> None:
    """A COMMIT sent with a batch ends the whole transaction: only from the outermost
    atomic block, with no savepoint open and nothing marked for rollback."""
    if len(connection.atomic_blocks) != 1 or connection.savepoint_ids or connection.needs_rollback:
        raise TransactionManagementError(
            "execute_prepared_batch(commit=True) outside the outermost atomic block, "
            "or in a transaction marked for rollback"
        )
