"""New tenant schemas by replaying the DDL of a migrated template schema.

Running the tenant migrations for a new schema costs 0.15-0.4 s on an idle machine and
several seconds on a loaded one (Django loads the migration graph, renders the model
states and sends every statement on its own), and django-tenants' `clone_schema()`
function grows with the number of schemas in the database. Instead:

1. a **template schema** (`TEMPLATE`, not a tenant: no Tenant row, a name no tenant slug
   can have) is created by running the migrations, as any tenant's schema would be;
2. `pg_dump --schema=<template> --inserts` captures its DDL and its rows (the
   `django_migrations` and `django_content_type` rows the migrations wrote, and the
   sequences' positions) once per process and per set of migrations on disk;
3. a new schema is that script with the template's name replaced, sent in one round
   trip inside the caller's transaction.

The template is rebuilt (under an advisory lock, so that two processes do not race)
whenever its `django_migrations` is not exactly the migrations on disk, so the replayed
schema is the one the migrations make: tests/integration/test_schema_template.py compares
a replayed schema with a migrated one (tables, columns, defaults, indexes, constraints,
sequences, triggers, django_migrations and content type rows).

Needs the `pg_dump` of the server's major version on the process's PATH; without it
(or with settings.TENANT_SCHEMA_REPLAY off) schemas are created by the migrations.
"""

import functools
import logging
import os
import re
import shutil
import subprocess
import threading

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from psycopg import sql

from tenants.migration_state import migrations_on_disk

log = logging.getLogger(__name__)

TEMPLATE = "_tenant_template"  # a slug starts with a letter: never a tenant's schema
_LOCK_KEY = 0x5EED_7E11  # pg_advisory_xact_lock key of the template's rebuild
_SKIPPED = re.compile(r"^(SET |SELECT pg_catalog\.set_config|CREATE SCHEMA |--|\\)")

_lock = threading.Lock()
_captured: dict[frozenset, str] = {}  # migrations on disk -> script with {schema} marks


@functools.lru_cache(maxsize=1)
def _expected() -> frozenset[tuple[str, str]]:
    return frozenset(migrations_on_disk())  # the code on disk: fixed for a process's life


def replay_available() -> bool:
    return bool(getattr(settings, "TENANT_SCHEMA_REPLAY", True)) and bool(shutil.which("pg_dump"))


def create_schema(schema: str, script: str | None = None) -> None:
    """Create `schema` as the tenant migrations would, from the template's script."""
    script = script if script is not None else template_script()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        marker = sql.Identifier(schema).as_string(cursor.connection)
        cursor.execute(script.replace("{schema}", marker))


def template_script() -> str:
    """The template's script for the migrations on disk (captured at first use)."""
    key = _expected()
    with _lock:
        script = _captured.get(key)
        if script is None:
            script = _captured[key] = _capture_aside(key)
        return script


def _capture_aside(expected: frozenset[tuple[str, str]]) -> str:
    """_capture on a thread of its own: its own connection, in autocommit, so that the
    template it may rebuild is committed before pg_dump (another session) reads it, even
    when the caller is inside a transaction."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["script"] = _capture(expected)
        except BaseException as exc:  # handed to the caller
            result["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="tenant-template")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return str(result["script"])


def _template_migrations() -> frozenset[tuple[str, str]] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{TEMPLATE}.django_migrations"])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations").format(sql.Identifier(TEMPLATE))
        )
        return frozenset(cursor.fetchall())


def ensure_template(expected: frozenset[tuple[str, str]] | None = None) -> None:
    """The template schema, rebuilt by the migrations unless it holds exactly them.
    Call it outside a transaction (the rebuild must be committed for pg_dump)."""
    expected = expected or _expected()
    if _template_migrations() == expected:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        if _template_migrations() == expected:  # another process rebuilt it meanwhile
            return
        log.info("rebuilding the tenant template schema %s", TEMPLATE)
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(TEMPLATE))
            )
            cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(TEMPLATE)))
        call_command("migrate_schemas", schema_name=TEMPLATE, interactive=False, verbosity=0)
    finally:
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    if _template_migrations() != expected:
        raise RuntimeError("the tenant template schema does not match the migrations on disk")


def _capture(expected: frozenset[tuple[str, str]]) -> str:
    ensure_template(expected)
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    command = [
        "pg_dump", "--schema", TEMPLATE, "--inserts", "--no-owner", "--no-privileges",
        "--no-comments", "--no-publications", "--no-subscriptions", "--no-security-labels",
        "--host", str(db.get("HOST") or "localhost"), "--port", str(db.get("PORT") or 5432),
        "--username", str(db.get("USER") or "postgres"), str(db["NAME"]),
    ]  # fmt: skip
    dump = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603
    lines = [line for line in dump.splitlines() if not _SKIPPED.match(line)]
    script = "\n".join(lines)
    if "{schema}" in script:
        raise RuntimeError("the template's dump already holds the schema marker")
    # Every object is named with its schema in pg_dump's output (search_path is empty).
    script = re.sub(rf"(?<![\w\"]){re.escape(TEMPLATE)}\.", "{schema}.", script)
    if TEMPLATE in script:
        raise RuntimeError(f"the template's dump names {TEMPLATE} where it cannot be replaced")
    return script
