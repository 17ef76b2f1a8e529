"""`migrate_schemas`' fast path (tenants/management/commands/migrate_schemas.py): schemas
that hold every migration are skipped, schemas that are behind are still migrated (in a
pool of processes), and the result is the schema `migrate` would have made."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.signals import schema_pre_migration
from psycopg import sql

from tenants.migration_state import migrations_on_disk, schemas_behind
from tenants.models import Tenant
from tests.tenancy import unique

LATEST = ("actions", "0004_conversation_message")  # creates actions_conversation, _message
AFTER_LATEST = ("actions", "0005_record_running")  # depends on it: goes with it


@pytest.fixture
def fresh_tenants():
    made: list[str] = []

    def make() -> str:
        slug = unique("mig")
        Tenant(schema_name=slug, name=slug).save(verbosity=0)
        made.append(slug)
        return slug

    yield make
    with connection.cursor() as cursor:
        for slug in made:
            cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(slug)))
    Tenant.objects.filter(schema_name__in=made).delete()


def _put_behind(slug: str) -> None:
    """As if the schema were created before LATEST: its tables and row gone, with those of
    the migration after it (which depends on it)."""
    with connection.cursor() as cursor:
        schema = sql.Identifier(slug)
        cursor.execute(
            sql.SQL("DROP TABLE {}.actions_message, {}.actions_conversation").format(schema, schema)
        )
        cursor.execute(sql.SQL("DROP INDEX {}.record_running").format(schema))
        for migration in (LATEST, AFTER_LATEST):
            cursor.execute(
                sql.SQL("DELETE FROM {}.django_migrations WHERE app = %s AND name = %s").format(
                    schema
                ),
                migration,
            )


def _has_table(slug: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{slug}".{table}'])
        return cursor.fetchone()[0]


def _migrate(**options) -> str:
    out = io.StringIO()
    call_command("migrate_schemas", tenant=True, interactive=False, stdout=out, **options)
    return out.getvalue()


def test_the_migration_graph_is_what_a_migrated_schema_records():
    assert LATEST in migrations_on_disk() and AFTER_LATEST in migrations_on_disk()
    assert schemas_behind(["acme", "beta"]) == []


def test_up_to_date_schemas_are_skipped_and_a_behind_one_migrated(fresh_tenants):
    late = fresh_tenants()
    _put_behind(late)
    everyone = sorted(
        Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True)
    )
    behind = schemas_behind(everyone)  # [late], unless an earlier run left one behind
    assert late in behind
    migrated: list[str] = []

    def seen(sender, schema_name, **kwargs):
        migrated.append(schema_name)

    schema_pre_migration.connect(seen)
    try:
        out = _migrate(verbosity=1, processes=1)  # in this process, so the signal is seen
    finally:
        schema_pre_migration.disconnect(seen)

    assert migrated == behind  # Django's migrate never ran in an up-to-date schema
    assert f"{len(everyone) - len(behind)} up to date (skipped), {len(behind)} to migrate" in out
    assert _has_table(late, "actions_conversation") and schemas_behind(everyone) == []


def test_schemas_behind_are_migrated_by_a_pool_of_processes(fresh_tenants):
    late, later = fresh_tenants(), fresh_tenants()
    _put_behind(late)
    _put_behind(later)

    out = _migrate(verbosity=1, processes=2)

    assert "2 to migrate" in out and "with 2 processes" in out
    assert _has_table(late, "actions_conversation") and _has_table(later, "actions_conversation")
    assert schemas_behind([late, later]) == []
    assert "0 to migrate" in _migrate(verbosity=1)


def test_a_schema_without_a_migrations_table_is_migrated(fresh_tenants):
    slug = fresh_tenants()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(slug)))
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(slug)))
    assert slug in schemas_behind([slug, "acme"])
    _migrate(verbosity=0, processes=1)
    assert _has_table(slug, "actions_actionrecord") and schemas_behind([slug]) == []


def test_a_single_schema_and_a_target_take_django_tenants_path(fresh_tenants):
    slug = fresh_tenants()
    _put_behind(slug)
    out = _migrate(verbosity=1, schema_name=slug)
    assert "up to date (skipped)" not in out  # django-tenants' own loop
    assert _has_table(slug, "actions_conversation")
