"""Purging a tenant's business data: every table of the tenant apps in its schema
(action records, CTA events, and whatever business models join TENANT_APPS later), but
not Django's bookkeeping (migrations, content types). Used by `demo.reset`."""

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from psycopg import sql

KEEP_APPS = {"contenttypes"}


def business_tables() -> list[str]:
    labels = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS} - KEEP_APPS
    return sorted(
        model._meta.db_table
        for config in apps.get_app_configs()
        if config.label in labels or config.name in settings.TENANT_APPS
        if config.label not in KEEP_APPS
        for model in config.get_models()
        if model._meta.managed and not model._meta.proxy
    )


def schema_business_purge(*, schema: str) -> int:
    """Empty every business table of `schema`; the number of rows removed."""
    if schema == settings.PUBLIC_SCHEMA_NAME:
        raise ValueError("the public schema holds no tenant's business data")
    tables = business_tables()
    removed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.connection
        for table in tables:
            name = sql.Identifier(schema, table)
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(name).as_string(raw))
            removed += cursor.fetchone()[0]
        if tables:
            names = sql.SQL(", ").join(sql.Identifier(schema, t) for t in tables)
            cursor.execute(sql.SQL("TRUNCATE {}").format(names).as_string(raw))
    return removed
