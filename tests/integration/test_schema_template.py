"""A tenant schema replayed from the template (tenants/schema_template.py) is the schema
the tenant migrations make: tables, columns, defaults, indexes, constraints, sequences,
triggers, django_migrations and content type rows."""

import pytest
from django.db import connection
from django.test import override_settings
from psycopg import sql

from tenants import schema_template
from tenants.migration_state import schemas_behind
from tenants.models import Tenant
from tests.tenancy import unique

_CATALOG = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid),
               -- the column's place among the live ones (a dropped column keeps its attnum)
               rank() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = %(ns)s::regnamespace AND a.attnum > 0
           AND NOT a.attisdropped""",
    "relations": """
        SELECT relname, relkind, relpersistence, reloptions::text
          FROM pg_class WHERE relnamespace = %(ns)s::regnamespace""",
    "indexes": """
        SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = %(ns)s""",
    "constraints": """
        SELECT c.conname, r.relname, c.contype, pg_get_constraintdef(c.oid),
               c.condeferrable, c.condeferred
          FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
         WHERE c.connamespace = %(ns)s::regnamespace""",
    "sequences": """
        SELECT sequencename, data_type::text, start_value, min_value, max_value,
               increment_by, cycle, cache_size, last_value
          FROM pg_sequences WHERE schemaname = %(ns)s""",
    "owned_sequences": """
        SELECT s.relname, t.relname, a.attname
          FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
          JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
         WHERE s.relnamespace = %(ns)s::regnamespace""",
    "triggers": """
        SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid)
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = %(ns)s::regnamespace AND NOT t.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
         WHERE p.pronamespace = %(ns)s::regnamespace""",
}


def signature(schema: str) -> dict[str, list]:
    """Everything that makes the schema, its own name written as `<schema>`."""
    found: dict[str, list] = {}
    with connection.cursor() as cursor:
        for kind, query in _CATALOG.items():
            cursor.execute(query, {"ns": schema})
            found[kind] = sorted(
                tuple(str(v).replace(f'"{schema}".', "<schema>.").replace(f"{schema}.", "<schema>.")
                      for v in row)
                for row in cursor.fetchall()
            )  # fmt: skip
        name = sql.Identifier(schema)
        cursor.execute(sql.SQL("SELECT app, name FROM {}.django_migrations").format(name))
        found["django_migrations"] = sorted(cursor.fetchall())
        cursor.execute(
            sql.SQL("SELECT id, app_label, model FROM {}.django_content_type").format(name)
        )
        found["content_types"] = sorted(cursor.fetchall())
    return found


@pytest.fixture
def schemas():
    made: list[str] = []
    yield made
    with connection.cursor() as cursor:
        for slug in made:
            cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(slug)))
    Tenant.objects.filter(schema_name__in=made).delete()


def test_a_replayed_schema_is_the_migrated_one(schemas):
    migrated, replayed = unique("migrated"), unique("replayed")
    schemas += [migrated, replayed]
    with override_settings(TENANT_SCHEMA_REPLAY=False):
        Tenant(schema_name=migrated, name=migrated).save(verbosity=0)
    assert schema_template.replay_available()
    Tenant(schema_name=replayed, name=replayed).save(verbosity=0)

    expected, got = signature(migrated), signature(replayed)
    assert expected["relations"] and expected["indexes"] and expected["constraints"]
    assert expected["sequences"] and expected["django_migrations"]
    for kind in expected:
        assert got[kind] == expected[kind], kind
    assert schemas_behind([replayed, migrated]) == []


def test_the_template_is_rebuilt_when_it_lacks_a_migration(schemas):
    schema_template.ensure_template()
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "DELETE FROM {}.django_migrations WHERE app = 'actions' "
                "AND name = '0004_conversation_message'"
            ).format(sql.Identifier(schema_template.TEMPLATE))
        )
    schema_template.ensure_template()
    assert schemas_behind([schema_template.TEMPLATE]) == []
    assert not Tenant.objects.filter(schema_name=schema_template.TEMPLATE).exists()


def test_a_replayed_tenant_takes_actions(schemas):
    slug = unique("replayed")
    schemas.append(slug)
    Tenant(schema_name=slug, name=slug).save(verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "INSERT INTO {}.actions_ctaevent (surface, cta_id, page, event, variant,"
                " lead_id, session_id, occurred_at, recorded_at, message_id) VALUES"
                " ('s', 'c', '', 'click', '', '', '', now(), now(), gen_random_uuid())"
                " RETURNING id"
            ).format(sql.Identifier(slug))
        )
        assert cursor.fetchone()[0] == 1  # its own sequence, starting where a new one does
