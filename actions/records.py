"""The action record's hot statements, in SQL: store (edge), claim and finish (worker).

Every accepted action costs these three writes, so each is one statement and one round
trip: no ORM compilation, no BEGIN/COMMIT of its own, and the table is named with its
schema, so the edge never switches `search_path` to store a record. Everything else about
records (polling, the sweep, retention, tests) uses the ORM model `ActionRecord`.
"""

import functools
import json
import uuid
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from psycopg import sql
from psycopg.types.json import Jsonb

from actions.models import ActionRecord
from config.db import ASYNC_COMMIT, execute_prepared, execute_prepared_batch

TABLE = ActionRecord._meta.db_table
# A running record's lease: its action's timeout plus this grace. A record still running
# past it lost its worker; the outbox sweep publishes it again (actions.worker.executor).
LEASE_GRACE_S = 30


def lease_expired_before(spec, now=None):
    """A running record of `spec` started before this has lost its worker."""
    return (now or timezone.now()) - timedelta(seconds=spec.timeout_s + LEASE_GRACE_S)


_FIELDS = [f.attname for f in ActionRecord._meta.concrete_fields]


def _table(schema: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(TABLE))


_STORE = sql.SQL(
    "INSERT INTO {table} (id, action, version, channel, transport, actor_id, actor_email, "
    "payload, payload_hash, meta, status, trace_id, reply_to, attempts, executed_by, created_at) "
    "VALUES (%(id)s, %(action)s, %(version)s, %(channel)s, %(transport)s, %(actor_id)s, "
    "%(actor_email)s, %(payload)s, %(payload_hash)s, %(meta)s, 'accepted', %(trace_id)s, "
    "%(reply_to)s, 0, '', %(created_at)s) ON CONFLICT (id) DO NOTHING"
)


def record_store(*, schema: str, **fields) -> ActionRecord | None:
    """Insert a new record (status accepted) in `schema`; None if its id already exists."""
    values = {
        **fields,
        "created_at": timezone.now(),
        "payload": Jsonb(fields["payload"]),
        "meta": Jsonb(fields["meta"]),
        "reply_to": Jsonb(fields["reply_to"]),
    }
    _, count = execute_prepared(_statement("store", schema), values, label="record_store")
    if count != 1:
        return None
    return ActionRecord(
        **{**fields, "status": "accepted", "attempts": 0, "created_at": values["created_at"]}
    )


_CLAIM = sql.SQL(
    "UPDATE {table} SET status = 'running', attempts = attempts + 1, started_at = %(now)s, "
    "executed_by = %(worker)s, published_at = COALESCE(published_at, %(now)s) "
    "WHERE id = %(id)s AND status = 'accepted' AND channel = %(channel)s RETURNING {fields}"
)


def record_claim(*, schema: str, record_id: str, channel: str, worker: str) -> ActionRecord | None:
    """accepted -> running, in one statement; None if the record is not `accepted` (it is
    running, finished, of another channel or unknown: the caller looks closer)."""
    statement, params = claim_statement(
        schema=schema, record_id=record_id, channel=channel, worker=worker
    )
    row, _ = execute_prepared(statement, params, label="record_claim")
    return claimed_record(row)


def claim_statement(*, schema: str, record_id: str, channel: str, worker: str) -> tuple:
    """(statement, params) of `record_claim`, to send with others in one round trip."""
    params: dict[str, Any] = {
        "id": record_id,
        "channel": channel,
        "worker": worker,
        "now": timezone.now(),
    }
    return _statement("claim", schema), params


_LOCK = sql.SQL(
    "SELECT {fields} FROM {table} WHERE id = %(id)s AND status = 'accepted' "
    "AND channel = %(channel)s FOR UPDATE"
)


def lock_statement(*, schema: str, record_id: str, channel: str) -> tuple:
    """(statement, params) that locks an `accepted` record and returns it (`claimed_record`
    reads the row): the claim of a first delivery, whose transaction then finishes the
    record with `record_finish_accepted` and never writes a `running` version of it."""
    return _statement("lock", schema), {"id": record_id, "channel": channel}


def claimed_record(row) -> ActionRecord | None:
    """The record a claim statement returned, or None."""
    if row is None:
        return None
    return ActionRecord.from_db(connection.alias, _FIELDS, _decoded(row))


_FINISH = sql.SQL(
    "UPDATE {table} SET status = %s, result = %s, error = %s, finished_at = %s, "
    "duration_ms = %s, payload = %s WHERE id = %s AND status = 'running' AND attempts = %s "
    "RETURNING reply_to"
)


class LeaseLost(Exception):
    """The record is no longer this attempt's: another worker took it over (the message was
    redelivered because this worker's broker connection died) or it finished. The
    finishing transaction must roll back, so that the action's writes happen once."""


def record_finish(*, schema: str, record: ActionRecord, commit: bool = False) -> list:
    """Store a record's outcome; returns its reply targets as they are now. Only the attempt
    that holds the claim may (else LeaseLost: roll back). The UPDATE's row
    lock orders it with a duplicate request adding a target (actions.edge.pipeline), so none is
    lost: a target added before is returned, one added after sees a finished record.
    `commit`: the transaction that claimed the record commits in the same round trip."""
    params = [
        record.status,
        _jsonb(record.result),
        _jsonb(record.error),
        record.finished_at,
        record.duration_ms,
        _jsonb(record.payload),
        record.id,
        record.attempts,  # the fencing token: only the attempt that holds the claim finishes
    ]
    ((row, _),) = execute_prepared_batch(
        [(_statement("finish", schema), params, "record_finish")], commit=commit
    )
    if row is None:
        raise LeaseLost(f"record {record.id} attempt {record.attempts} was taken over")
    (reply_to,) = row
    return json.loads(reply_to) if isinstance(reply_to, str) else reply_to


_FINISH_ACCEPTED = sql.SQL(
    "UPDATE {table} SET status = %(status)s, result = %(result)s, error = %(error)s, "
    "finished_at = %(now)s, duration_ms = %(duration_ms)s, payload = %(payload)s, "
    "attempts = attempts + 1, started_at = %(started_at)s, executed_by = %(worker)s, "
    "published_at = COALESCE(published_at, %(now)s) "
    "WHERE id = %(id)s AND status = 'accepted' AND channel = %(channel)s "
    "RETURNING reply_to, attempts"
)


def record_finish_accepted(
    *, schema: str, record: ActionRecord, worker: str, commit: bool = False
) -> bool:
    """accepted -> finished in one statement, counting the attempt: the outcome of a first
    delivery (actions.worker.executor), with its transaction's COMMIT when `commit`, or
    written after its transaction rolled back. False when the record is no longer
    `accepted` (another attempt has it)."""
    params = {
        "status": record.status,
        "result": _jsonb(record.result),
        "error": _jsonb(record.error),
        "now": record.finished_at,
        "duration_ms": record.duration_ms,
        "payload": _jsonb(record.payload),
        "started_at": record.started_at,
        "worker": worker,
        "id": record.id,
        "channel": record.channel,
    }
    ((row, _),) = execute_prepared_batch(
        [(_statement("finish_accepted", schema), params, "record_finish_accepted")],
        commit=commit,
    )
    if row is None:
        return False
    reply_to, record.attempts = row
    record.reply_to = json.loads(reply_to) if isinstance(reply_to, str) else reply_to
    return True


# Rows locked by a worker's open transaction are being claimed or finished (which sets
# `published_at` too): skipped rather than waited for, so the publisher never stalls.
_PUBLISHED = sql.SQL(
    "UPDATE {table} SET published_at = %s WHERE id IN (SELECT id FROM {table} "
    "WHERE id = ANY(%s) AND published_at IS NULL FOR UPDATE SKIP LOCKED)"
)


def records_mark_published(*, schema: str, record_ids: list[str]) -> None:
    """The broker confirmed these records' tasks: the sweep leaves them alone."""
    params = [timezone.now(), [uuid.UUID(i) for i in record_ids]]
    # A mark lost in a database crash only has the sweep publish the record again.
    execute_prepared_batch(
        [ASYNC_COMMIT, (_statement("published", schema), params, "records_mark_published")]
    )


_UNPUBLISHED = sql.SQL(
    "SELECT id, action, actor_id FROM {table} WHERE published_at IS NULL "
    "AND status = 'accepted' AND channel = %s ORDER BY created_at LIMIT %s"
)


def records_unpublished(*, schema: str, channel: str, limit: int) -> list[tuple[str, str, Any]]:
    """The oldest records of `channel` in `schema` not (yet) marked published: (id, action,
    actor_id) each. The outbox's fair scheduling takes a tenant's held-back records from
    here (the partial index `record_unpublished` serves it)."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(_statement("unpublished", schema).decode(), [channel, limit])
        return [(str(id_), action, actor_id) for id_, action, actor_id in cursor.fetchall()]


_STILL_UNPUBLISHED = sql.SQL(
    "SELECT id FROM {table} WHERE id = ANY(%s) AND published_at IS NULL AND status = 'accepted'"
)


def records_still_unpublished(*, schema: str, record_ids: list[str]) -> set[str]:
    """Those of `record_ids` still stored and unpublished (read from the table a while ago,
    they may have been published and run since)."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            _statement("still_unpublished", schema).decode(),
            [[uuid.UUID(i) for i in record_ids]],
        )
        return {str(id_) for (id_,) in cursor.fetchall()}


@functools.lru_cache(maxsize=4096)
def _statement(kind: str, schema: str) -> bytes:
    """A hot statement for `schema`, its table named with the schema (config.db), as the
    bytes psycopg sends: composed once per schema, not at every execution."""
    template = {
        "store": _STORE,
        "claim": _CLAIM,
        "lock": _LOCK,
        "finish": _FINISH,
        "finish_accepted": _FINISH_ACCEPTED,
        "published": _PUBLISHED,
        "unpublished": _UNPUBLISHED,
        "still_unpublished": _STILL_UNPUBLISHED,
    }
    return (
        template[kind]
        .format(
            table=_table(schema), fields=sql.SQL(", ").join(map(sql.Identifier, _column_names()))
        )
        .as_bytes(None)
    )


def _jsonb(value):
    return None if value is None else Jsonb(value)


def _column_names() -> list[str]:
    return [str(f.column) for f in ActionRecord._meta.concrete_fields]


_JSON_AT = [
    i
    for i, f in enumerate(ActionRecord._meta.concrete_fields)
    if f.get_internal_type() == "JSONField"
]


def _decoded(row) -> list:
    """Django's connection loads jsonb as text (its JSONField decodes it); so do we."""
    values = list(row)
    for i in _JSON_AT:
        if isinstance(values[i], str):
            values[i] = json.loads(values[i])
    return values
