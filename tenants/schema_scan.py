"""Which tenant schemas hold a row that matches: one query for many schemas.

Periodic work that looks into every tenant's table (the outbox sweep, the purge of
secrets) used to switch to each schema in turn and ask there: a few ORM queries and round
trips per schema, so at 1,000 tenants the outbox sweep, due every 10 s, took 5-9 s and
4-5 s of worker CPU finding nothing (docs/performance.md, "A thousand tenants"). Asking
all schemas at once, a batch of them per query, answers which few have work; only those
are visited. The same batching as `tenants.migration_state` (a UNION ALL of hundreds of
schemas takes seconds to plan).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections
from psycopg import sql

BATCH = 25  # schemas per query


def schemas_with_rows(
    schemas: Sequence[str],
    *,
    table: str,
    where: str,
    params: Mapping[str, Any],
    using: str = "default",
) -> set[str]:
    """The schemas among `schemas` whose `table` has at least one row for which `where`
    holds. `where` is SQL over the table's columns, unqualified, with `%(name)s`
    placeholders for `params`; it must not come from a client."""
    found: set[str] = set()
    per_schema = sql.SQL(
        "SELECT {name}::text FROM (SELECT 1 FROM {schema}.{table} WHERE {where} LIMIT 1) AS hit"
    )
    for start in range(0, len(schemas), BATCH):
        query = sql.SQL(
            " UNION ALL "
        ).join(
            per_schema.format(
                name=sql.Literal(schema),
                schema=sql.Identifier(schema),
                table=sql.Identifier(table),
                where=sql.SQL(where),  # the caller's own SQL, never a client's
            )
            for schema in schemas[start : start + BATCH]
        )
        with connections[using].cursor() as cursor:
            cursor.execute(query.as_string(), params)
            found |= {name for (name,) in cursor.fetchall()}
    return found
