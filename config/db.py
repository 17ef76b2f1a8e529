"""Prepared statements for the hot path, shared by every package.

Django's PostgreSQL cursors bind parameters on the client, so PostgreSQL parses and plans
every statement anew: for the few statements every action runs (who is calling, store,
claim, finish) that costs more server time than running them (docs/performance.md).
These are prepared on the server: planned once per connection (a generic plan:
`plan_cache_mode` in config/settings/base.py), then executed by name, a batch of them in
one round trip (libpq's pipeline mode, driven here on psycopg's libpq binding: `_round_trip`).
Only statements whose tables are all named with their schema may go through here, so that
a plan can never follow a changed search_path elsewhere. PostgreSQL still plans a
prepared statement again whenever the search_path differs from its last execution: a
statement that a worker runs for every tenant, each under its own path, is therefore
given one text per tenant (tenants.services.access_statement's `schema`).

Each statement is added to Django's query log when it is on (tests count queries with
CaptureQueriesContext), as Django's own debug cursor does.
"""

import collections
import ctypes
import glob
import itertools
import os
import select
import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.transaction import TransactionManagementError
from psycopg._queries import PostgresQuery  # psycopg is pinned (requirements.lock)
from psycopg.adapt import Transformer
from psycopg.pq import ExecStatus, TransactionStatus

# Prepared statements a connection keeps (psycopg's default is 100), least recently used
# deallocated first. The hot statements name their tenant's schema, so each tenant has its
# own: a worker connection serving its share of 1,000 tenants (actions.connections.
# TenantConnections) keeps about 4 a tenant, a few more where a parameter's type varies
# (an int goes as int2, int4 or int8 after its value). A generic plan of one of them takes
# a few KB of the server's memory.
PREPARED_MAX = 2000
IDLE = TransactionStatus.IDLE
FATAL_ERROR, TUPLES_OK = ExecStatus.FATAL_ERROR, ExecStatus.TUPLES_OK
COMMAND_OK, PIPELINE_SYNC = ExecStatus.COMMAND_OK, ExecStatus.PIPELINE_SYNC
PIPELINE_ABORTED = ExecStatus.PIPELINE_ABORTED
COPY = frozenset({ExecStatus.COPY_IN, ExecStatus.COPY_OUT, ExecStatus.COPY_BOTH})
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
    """Statements in one round trip (libpq's pipeline mode), each prepared; in autocommit
    they share one implicit transaction. [(first row or None, row count)] each.

    Inside Django's `atomic` before its first statement, the transaction's BEGIN goes in
    the same round trip (psycopg would send it alone and wait for its answer).

    `commit`: inside a transaction (Django's `atomic`), the COMMIT goes in the same round
    trip; the block's own commit on exit then finds nothing to do (psycopg skips a COMMIT
    with no transaction open) and still runs its on_commit hooks.

    In autocommit a batch may be sent a second time, when the server had dropped one of
    its prepared statements (the first try rolled back whole): only statements whose
    effects are all transactional belong here (no advisory session locks, no sequences
    read for their value outside a table)."""
    # The wrapper itself, once: each `django.db.connection.<name>` looks it up again
    # (through asgiref's thread-local), about 3 us a time on this path.
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    pg = connection.connection
    started = time.monotonic()
    # Django's wrapper: psycopg's errors become django.db's, and a broken connection is
    # marked so that it is dropped before the next unit of work.
    with connection.wrap_database_errors:
        begin = not pg.autocommit and pg.pgconn.transaction_status == IDLE
        if commit:
            _check_outermost(connection)
        with pg.lock:
            results = _round_trip(pg, statements, begin=begin, commit=commit)
    if connection.queries_logged:
        took = f"{time.monotonic() - started:.3f}"
        for statement, _params, label in statements:
            if isinstance(statement, bytes):
                text = statement.decode()
            elif isinstance(statement, str):
                text = statement
            else:
                text = statement.as_string(pg)
            connection.queries_log.append({"sql": f"-- {label}\n{text}", "time": took})
    return results


# The statements this module prepared on each psycopg connection: (their text as sent,
# with $n placeholders; their parameters' types) -> their name, least recently used
# first. Kept apart from psycopg's own cache: psycopg empties the server's (DEALLOCATE
# ALL) at a ROLLBACK once it has prepared anything itself (it does not here: Django
# leaves its prepare_threshold unset).
_PREPARED_ATTR = "_switchboard_prepared"
_TO_CLOSE_ATTR = "_switchboard_to_close"
_names = itertools.count(1)


def _prepared_of(pg: psycopg.Connection) -> "collections.OrderedDict[tuple, bytes]":
    prepared = getattr(pg, _PREPARED_ATTR, None)
    if prepared is None:
        prepared = collections.OrderedDict()
        setattr(pg, _PREPARED_ATTR, prepared)
    return prepared


def _to_close_of(pg: psycopg.Connection) -> list[bytes]:
    """Names forgotten since the last batch, to close with the next one."""
    closes = getattr(pg, _TO_CLOSE_ATTR, None)
    if closes is None:
        closes = []
        setattr(pg, _TO_CLOSE_ATTR, closes)
    return closes


def _round_trip(pg: psycopg.Connection, statements, *, begin: bool, commit: bool):
    """The batch in one round trip; in autocommit, tried once more when the server had
    dropped a statement it was asked to run (every statement of the batch was then rolled
    back with its implicit transaction, so nothing ran twice)."""
    try:
        return _send_and_read(pg, statements, begin=begin, commit=commit)
    except psycopg.errors.InvalidSqlStatementName:
        if not pg.autocommit or pg.pgconn.transaction_status != IDLE:
            raise
        return _send_and_read(pg, statements, begin=begin, commit=commit)


def _send_and_read(pg: psycopg.Connection, statements, *, begin: bool, commit: bool):
    """Send the batch in libpq's pipeline mode, with one Sync, and read every result.

    Written on libpq's calls (psycopg.pq) rather than psycopg's cursors, whose pipeline
    machinery (a cursor, a generator step and a poll of the socket per statement, results
    turned into cursors) cost about twice the client CPU of the round trip itself
    (docs/performance.md). psycopg still converts and adapts the parameters (its
    PostgresQuery and Transformer, as its cursors do) and builds the errors.

    A prepared statement is known by its text and its parameters' types, as psycopg knows
    its own: psycopg sends an int as int2, int4 or int8 after its value, and None untyped."""
    pgconn = pg.pgconn
    tx = Transformer(pg)
    prepared = _prepared_of(pg)
    # (the libpq call, what its result tells): None, ("run", key) or ("prepare", key, name)
    sends: list[tuple[Any, Any]] = []
    closes: list[bytes] = _to_close_of(pg)
    used: set[bytes] = set()
    preparing: dict[tuple, bytes] = {}  # prepared by this batch, before their first run
    runs: list[tuple[Any, Any]] = []
    for statement, params, _label in statements:
        query = PostgresQuery(tx)
        query.convert(statement, params)
        key = (query.query, query.types)
        name = prepared.get(key) or preparing.get(key)
        if name is None:
            name = preparing[key] = b"_sb_%d" % next(_names)
            send = partial(pgconn.send_prepare, name, query.query, param_types=query.types)
            runs.append((send, ("prepare", key, name)))
        elif key in prepared:
            prepared.move_to_end(key)
        used.add(name)
        send = partial(pgconn.send_query_prepared, name, query.params, param_formats=query.formats)
        runs.append((send, ("run", key)))
    # The least recently used go, never one this batch uses. Closes go first: a protocol
    # Close takes no part in the transaction, and an error later in the batch cannot skip
    # it (closing a name the server lacks is no error either).
    while prepared and len(prepared) + len(preparing) > PREPARED_MAX:
        oldest = next(iter(prepared))
        if prepared[oldest] in used:
            break
        closes.append(prepared.pop(oldest))
    sends += [(partial(pgconn.send_close_prepared, name), None) for name in closes]
    closing = len(closes)  # taken off the list once the server has answered
    if begin:
        sends.append((partial(pgconn.send_query_params, pg._get_tx_start_command(), None), None))
    sends += runs
    if commit:
        sends.append((partial(pgconn.send_query_params, b"COMMIT", None), None))

    pgconn.enter_pipeline_mode()
    try:
        for send, _meaning in sends:
            send()
        _sync(pgconn)
        answers = _read_until_sync(pgconn, len(sends))
        pgconn.exit_pipeline_mode()
    except BaseException:
        try:
            pgconn.exit_pipeline_mode()
        except psycopg.Error:  # results left unread: the connection cannot be used again
            pg.close()
            # Dropped before the next unit of work.
            connections[DEFAULT_DB_ALIAS].errors_occurred = True
        raise

    del closes[:closing]
    # First what the server now holds, and the batch's first error; rows only without one.
    error, failed, fresh = None, None, set()
    for (_send, meaning), answer in zip(sends, answers, strict=True):
        if answer.status == FATAL_ERROR and error is None:
            error = psycopg.errors.error_from_result(answer, encoding=pg.info.encoding)
            failed = meaning
        elif meaning is not None and meaning[0] == "prepare" and answer.status == COMMAND_OK:
            prepared[meaning[1]] = meaning[2]  # prepared: known from now on
            fresh.add(meaning[2])
    if error is not None:
        _forget(pg, prepared, error, failed, fresh)
        raise error
    results: list[tuple[list[Any] | None, int]] = []
    for (_send, meaning), answer in zip(sends, answers, strict=True):
        if meaning is not None and meaning[0] == "run":
            row = None
            if answer.status == TUPLES_OK:
                rowcount = answer.ntuples
                if rowcount:
                    tx.set_pgresult(answer)
                    row = list(tx.load_row(0, tuple))
            else:
                count = answer.command_tuples
                rowcount = count if count is not None else -1
            results.append((row, rowcount))
    return results


def _forget(pg, prepared, error, failed, fresh: set[bytes]) -> None:
    """After an error, the statements to prepare afresh next time (their old names closed
    with the next batch)."""
    closes = _to_close_of(pg)
    if isinstance(error, psycopg.errors.InvalidSqlStatementName):
        # The server dropped ours (a DISCARD ALL or DEALLOCATE ALL sent by someone else):
        # all but those this batch prepared are forgotten, and prepared again when needed.
        for key, name in list(prepared.items()):
            if name not in fresh:
                closes.append(prepared.pop(key))
    elif isinstance(error, psycopg.errors.FeatureNotSupported) and failed is not None:
        # "cached plan must not change result type": the table changed under the plan.
        if failed[0] == "run" and failed[1] in prepared:
            closes.append(prepared.pop(failed[1]))


def _libpq_without_the_gil() -> Any:
    """The libpq that psycopg's binary package loaded, through ctypes (which lets go of
    the GIL during a call); None if psycopg runs on another build of it. psycopg's own
    binding keeps the GIL while libpq writes to the socket, and a write to a waiting
    PostgreSQL backend on the same machine wakes it, often taking the CPU from the writer
    for a while: every thread of the process waited meanwhile (10 % of the web process's
    GIL time was spent in the Sync's flush, py-spy; docs/performance.md)."""
    if psycopg.pq.__impl__ != "binary":
        return None
    import psycopg_binary

    folder = os.path.join(os.path.dirname(psycopg_binary.__file__), "..", "psycopg_binary.libs")
    found = glob.glob(os.path.join(folder, "libpq-*.so*"))
    if len(found) != 1:
        return None
    try:  # the library already loaded (the same handle), never a second copy
        libpq = ctypes.CDLL(found[0], mode=os.RTLD_NOW | os.RTLD_NOLOAD)
    except OSError:
        return None
    for function in (libpq.PQsendPipelineSync, libpq.PQflush):
        function.argtypes, function.restype = [ctypes.c_void_p], ctypes.c_int
    return libpq


_LIBPQ = _libpq_without_the_gil()


def _sync(pgconn) -> None:
    """The pipeline's Sync, and everything queued sent to the server."""
    if _LIBPQ is None:
        pgconn.pipeline_sync()
        flush = pgconn.flush
    else:
        pointer = pgconn.pgconn_ptr
        if not pointer:  # closed: libpq must never be handed a NULL connection
            raise psycopg.OperationalError("the connection is closed")
        if _LIBPQ.PQsendPipelineSync(pointer) != 1:
            raise psycopg.OperationalError(pgconn.get_error_message())
        flush = partial(_LIBPQ.PQflush, pointer)

    # libpq's flush reads what the server has answered meanwhile when the socket takes no
    # more (its pqSendSome), so a batch larger than both sockets' buffers cannot stall.
    poller = None
    while flushed := flush():  # 1: more to send once the socket takes it
        if flushed < 0:
            raise psycopg.OperationalError(pgconn.get_error_message())
        if poller is None:
            poller = select.poll()
            poller.register(pgconn.socket, select.POLLOUT)
        poller.poll()


def _read_until_sync(pgconn, expected: int) -> list:
    """Each command's result (the last of its results), up to the pipeline's Sync."""
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    answers: list = []
    last = None
    while True:
        if pgconn.is_busy():
            poller.poll()
            pgconn.consume_input()
            continue
        result = pgconn.get_result()
        if result is None:  # the end of one command's results
            if last is None or len(answers) == expected:  # libpq lost its way
                raise psycopg.OperationalError(
                    f"unexpected end of results in a pipeline: {pgconn.get_error_message()}"
                )
            answers.append(last)
            last = None
        elif result.status == PIPELINE_SYNC:
            if len(answers) != expected:
                raise psycopg.InterfaceError(f"{len(answers)} results for {expected} commands")
            return answers
        elif result.status in COPY:  # would never end: no COPY through here
            raise psycopg.NotSupportedError("COPY cannot run in a statement batch")
        else:
            last = result


def _check_outermost(connection) -> None:
    """A COMMIT sent with a batch ends the whole transaction: only from the outermost
    atomic block, with no savepoint open and nothing marked for rollback."""
    if len(connection.atomic_blocks) != 1 or connection.savepoint_ids or connection.needs_rollback:
        raise TransactionManagementError(
            "execute_prepared_batch(commit=True) outside the outermost atomic block, "
            "or in a transaction marked for rollback"
        )
