"""Prepared statements for the hot path, shared by every package.

Django's PostgreSQL cursors bind parameters on the client, so PostgreSQL parses and plans
every statement anew: for the few statements every action runs (who is calling, store,
claim, finish) that costs more server time than running them (docs/performance.md).
These run through psycopg's server-side binding with `prepare=True`: planned once per
connection, then executed. Only statements whose tables are all named with their schema
may go through here, so that a plan can never follow a changed search_path elsewhere.

Each statement is added to Django's query log when it is on (tests count queries with
CaptureQueriesContext), as Django's own debug cursor does.
"""

import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection

NEVER_AUTOMATICALLY = 2**31 - 1


def execute_prepared(
    statement: str | psycopg.sql.Composed,
    params: Sequence[Any] | Mapping[str, Any],
    *,
    label: str,
    fetch: bool = True,
) -> tuple[list[Any] | None, int]:
    """Run one statement prepared; (the first row or None, the row count)."""
    connection.ensure_connection()
    pg = connection.connection
    if pg.prepare_threshold is None:
        # Django leaves psycopg's threshold unset, which disables even an explicit
        # `prepare=True`. A threshold no statement reaches keeps automatic preparation off
        # and lets the statements here be prepared.
        pg.prepare_threshold = NEVER_AUTOMATICALLY
    started = time.monotonic()
    # Django's wrapper: psycopg's errors become django.db's, and a broken connection is
    # marked so that it is dropped before the next unit of work.
    with connection.wrap_database_errors, psycopg.Cursor(pg) as cursor:
        cursor.execute(statement, params, prepare=True)
        row = cursor.fetchone() if fetch and cursor.description else None
        count = cursor.rowcount
    if connection.queries_logged:
        text = statement if isinstance(statement, str) else statement.as_string(cursor)
        took = f"{time.monotonic() - started:.3f}"
        connection.queries_log.append({"sql": f"-- {label}\n{text}", "time": took})
    return (list(row) if row is not None else None), count
