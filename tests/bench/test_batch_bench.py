"""The hot path's statement batches (config/db.py) against psycopg's own pipeline, in the
same run: client CPU and wall time per batch, one thread, on the real database.

- *Baseline*: what config/db.py did until 2026-11-27, psycopg's cursors in pipeline mode
  with `prepare=True` (a cursor, a generator step and a poll of the socket per statement,
  BEGIN and COMMIT queued as statements).
- *Switchboard*: `execute_prepared_batch`, which queues the statements on libpq itself
  and sends one Sync without the GIL.
Two shapes, as the worker sends them: the first delivery's claim (search_path, the record's
lock, the access statement) in autocommit, and an atomic block of that batch with BEGIN
plus a second batch with COMMIT. Prints figures and ratios; asserts only that both ways
give the same rows. Run with `make bench`."""

import time

import psycopg
import pytest
from django.db import connection, transaction

from config.db import execute_prepared_batch
from tenants.models import User
from tenants.services import access_statement

pytestmark = pytest.mark.bench

N = 3000


def _psycopg_pipeline(statements, *, commit=False):
    """The former config/db.py: psycopg's cursors in its pipeline mode."""
    connection.ensure_connection()
    pg = connection.connection
    if pg.prepare_threshold is None:
        pg.prepare_threshold = 2**31 - 1  # prepare only when asked
    begin = not pg.autocommit and pg.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
    cursors = []
    with pg.pipeline():
        if begin:
            pg._autocommit = True
            try:
                psycopg.Cursor(pg).execute(pg._get_tx_start_command())
            finally:
                pg._autocommit = False
        for statement, params, _label in statements:
            cursor = psycopg.Cursor(pg)
            cursor.execute(statement, params, prepare=True)
            cursors.append(cursor)
        if commit:
            psycopg.Cursor(pg).execute(b"COMMIT")
    rows = []
    for cursor in cursors:
        row = cursor.fetchone() if cursor.description else None
        rows.append((list(row) if row is not None else None, cursor.rowcount))
        cursor.close()
    return rows


def _measure(run, shape) -> tuple[float, float]:
    for _ in range(200):
        shape(run)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(N):
        shape(run)
    return (time.perf_counter() - wall) / N * 1e6, (time.process_time() - cpu) / N * 1e6


def test_batches_against_psycopgs_pipeline(capsys):
    member = User.objects.get(email="member@acme.test")
    claim = [
        ("SELECT set_config('search_path', %s, false)", ["acme,public"], "search_path"),
        ("SELECT id FROM acme.actions_actionrecord WHERE id = %s FOR UPDATE",
         ["00000000-0000-0000-0000-000000000000"], "lock"),
        (*access_statement(user_id=member.pk, slug="acme", schema="acme"), "access"),
    ]  # fmt: skip
    finish = [("SELECT %s::int", [1], "finish")]

    def autocommit(run):
        return run(claim)

    def atomic(run):
        with transaction.atomic():
            run(claim)
            return run(finish, commit=True)

    try:
        assert autocommit(_psycopg_pipeline) == autocommit(execute_prepared_batch)
        assert atomic(_psycopg_pipeline) == atomic(execute_prepared_batch)
    finally:
        connection.close()
    figures = {}
    try:
        for name, shape in (("claim batch, autocommit", autocommit), ("atomic, 2 batches", atomic)):
            for way, run in (
                ("psycopg", _psycopg_pipeline),
                ("config.db", execute_prepared_batch),
            ):
                connection.close()  # a fresh connection each: nothing prepared before
                figures[name, way] = _measure(run, shape)
    finally:
        connection.close()  # psycopg's prepare threshold set above goes with it
    with capsys.disabled():
        print(f"\n[bench] statement batches, {N} each, one thread")
        print(f"[bench] {'shape':26s} {'way':10s} {'wall us':>8s} {'cpu us':>7s} {'cpu ratio':>9s}")
        for (name, way), (wall, cpu) in figures.items():
            base = figures[name, "psycopg"][1]
            print(f"[bench] {name:26s} {way:10s} {wall:8.0f} {cpu:7.0f} {cpu / base:9.2f}")
