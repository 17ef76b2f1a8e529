"""Monitoring (seeds 003/004): what the queues hold, which workers are live, and per
action the calls, errors and latency of the last hour.

The one place that inspects these: the admin actions (`system.queues`, `system.workers`,
`system.metrics`), the Prometheus endpoint (`/metrics`) and the dashboard all read them
through the functions here, so a new queue or figure is added once, in `queue_specs` or
`queue_inspect` (the dead-letter queues appear as soon as config.queues names them).

Sources, chosen so that nothing needs RabbitMQ's management plug-in:
- a queue's depth and consumers: a passive `queue_declare` with the login of the
  queue's channel (the user channel's login may not look at the admin queues);
- the oldest waiting message's age: the oldest action record still `accepted` (stored,
  not yet claimed by a worker) of the queue's channel, across every tenant's schema;
- workers: a Celery broadcast (`switchboard_channel`, `stats`, `active`);
- calls, errors, latency: the action records of the window, across every schema.
  Latency is from acceptance to the answer (`finished_at - created_at`), what a client
  waits; `exec` figures are the handler's own time on the worker (`duration_ms`).
  Refusals at the edge (invalid, forbidden, rate limited...) store no record: they are
  in the central error log, not here.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import amqp
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection
from psycopg import sql

from actions.delivery.replies import broker_url
from actions.models import ActionRecord
from config import queues as config_queues
from config.queues import CHANNELS, MAINTENANCE_QUEUE, action_queue, ingress_name

RECORDS = ActionRecord._meta.db_table


@dataclass(frozen=True)
class QueueSpec:
    name: str
    channel: str  # whose broker login may look at it
    kind: str  # work | dead_letter
    records_channel: str | None = None  # records waiting for this queue's workers


def queue_specs() -> list[QueueSpec]:
    """Every Switchboard queue of both channels: each channel's action queue (and its
    dead-letter queue, where config.queues names one), AMQP ingress queue, and the
    maintenance queue (beat's jobs, on the user channel)."""
    dead_letter = getattr(config_queues, "dead_letter_queue", None)
    specs = []
    for channel in CHANNELS:
        specs.append(QueueSpec(action_queue(channel), channel, "work", records_channel=channel))
        if dead_letter is not None:
            specs.append(QueueSpec(dead_letter(channel), channel, "dead_letter"))
        specs.append(QueueSpec(ingress_name(channel), channel, "work"))
    specs.append(QueueSpec(MAINTENANCE_QUEUE, "user", "work"))
    return specs


def record_schemas() -> list[str]:
    """Every schema that holds action records: the public one (platform and account
    actions) and each tenant's."""
    from tenants.models import Tenant

    tenants = Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    return [settings.PUBLIC_SCHEMA_NAME, *tenants.values_list("schema_name", flat=True)]


def _union(columns: str, where: str) -> sql.Composed:
    """`SELECT columns FROM <schema>.records WHERE where` over every schema, UNION ALL."""
    parts = [
        sql.SQL("SELECT {cols} FROM {schema}.{table} WHERE {where}").format(
            cols=sql.SQL(columns),
            schema=sql.Identifier(schema),
            table=sql.Identifier(RECORDS),
            where=sql.SQL(where),
        )
        for schema in record_schemas()
    ]
    return sql.SQL(" UNION ALL ").join(parts)


def _rows(statement: sql.Composable, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.connection), params)
        return cursor.fetchall()


def oldest_waiting(now: datetime | None = None) -> dict[str, float | None]:
    """Per channel, the age in seconds of its oldest record still waiting for a worker."""
    now = now or timezone.now()
    statement = sql.SQL("SELECT channel, min(created_at) FROM ({u}) AS r GROUP BY channel").format(
        u=_union("channel, created_at", "status = 'accepted'")
    )
    found = dict(_rows(statement, {}))
    return {
        c: (round((now - found[c]).total_seconds(), 1) if found.get(c) else None) for c in CHANNELS
    }


def _declare(channel: str, names: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    with Connection(broker_url(channel), connect_timeout=2) as conn:
        for name in names:
            chan = conn.channel()  # a failed passive declare closes its channel
            try:
                _, messages, consumers = chan.queue_declare(queue=name, passive=True)
                found[name] = {"declared": True, "messages": messages, "consumers": consumers}
            except amqp.NotFound:
                found[name] = {"declared": False, "messages": 0, "consumers": 0}
            finally:
                try:
                    chan.close()
                except Exception:  # already closed by the broker
                    pass
    return found


def queue_inspect() -> dict[str, dict[str, Any]]:
    """{queue: state} for every queue of `queue_specs()`: ready messages (parked ones, for
    a dead-letter queue), consumers, whether it is declared, and the age of the oldest
    action record waiting for its workers (None when none waits, or for queues that hold
    no action records). A channel whose broker cannot be reached reports its `error`
    (then messages and consumers are None)."""
    specs = queue_specs()
    state: dict[str, dict[str, Any]] = {}
    for channel in CHANNELS:
        names = [q.name for q in specs if q.channel == channel]
        try:
            state.update(_declare(channel, names))
        except Exception as exc:
            for name in names:
                state[name] = {"declared": None, "messages": None, "consumers": None,
                               "error": type(exc).__name__}  # fmt: skip
    waiting = oldest_waiting()
    return {
        q.name: {
            "channel": q.channel,
            "kind": q.kind,
            "error": None,
            **state[q.name],
            "oldest_waiting_s": waiting.get(q.records_channel) if q.records_channel else None,
        }
        for q in specs
    }


def workers_live(timeout: float = 0.5) -> list[dict[str, Any]]:
    """Every live worker: its channel, the queues it consumes, its pool, what it runs now
    (task name, tenant schema and record id) and how many actions it has served since it
    started. One broadcast finds the workers (waiting `timeout`); the others return as
    soon as each of them has answered."""
    from celery import current_app

    control = current_app.control

    def ask(command: str, limit: int | None = None) -> dict[str, Any]:
        replies = control.broadcast(command, reply=True, timeout=timeout, limit=limit) or []
        return {host: answer for reply in replies for host, answer in reply.items()}

    channels = ask("switchboard_channel")
    n = len(channels)
    stats = ask("stats", n) if n else {}
    active = ask("active", n) if n else {}
    queues = ask("active_queues", n) if n else {}
    found = []
    for host in sorted(channels):
        answer = channels[host] or {}
        stat = stats.get(host) or {}
        running = []
        for task in active.get(host) or []:
            args = (task.get("args") or []) if isinstance(task, dict) else []
            running.append(
                {
                    "task": task.get("name") if isinstance(task, dict) else None,
                    "tenant_schema": str(args[0]) if len(args) > 0 else None,
                    "record": str(args[1]) if len(args) > 1 else None,
                }
            )
        found.append(
            {
                "hostname": host,
                "channel": answer.get("channel"),
                "served": answer.get("served") or {},
                "queues": sorted(q.get("name", "") for q in (queues.get(host) or [])),
                "concurrency": (stat.get("pool") or {}).get("max-concurrency"),
                "pid": stat.get("pid"),
                "uptime_s": stat.get("uptime"),
                "running": running,
            }
        )
    return found


def action_metrics(*, minutes: int = 60, now: datetime | None = None) -> dict[str, Any]:
    """Per action over the last `minutes`: calls and errors (and per minute), p50/p95
    latency; and a per-minute series (calls, p95) for charts."""
    now = now or timezone.now()
    since = now - timedelta(minutes=minutes)
    started = time.monotonic()
    records = _union(
        "action, channel, status, created_at, duration_ms, "
        "(extract(epoch FROM finished_at - created_at) * 1000) AS latency_ms",
        "created_at >= %(since)s AND created_at < %(until)s",
    )
    per_action = sql.SQL(
        "SELECT action, min(channel), count(*), count(*) FILTER (WHERE status = 'error'), "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms), "
        "count(*) FILTER (WHERE status IN ('accepted', 'running')) "
        "FROM ({r}) AS r GROUP BY action ORDER BY count(*) DESC, action"
    ).format(r=records)
    per_minute = sql.SQL(
        "SELECT date_trunc('minute', created_at) AS m, action, count(*), "
        "count(*) FILTER (WHERE status = 'error'), "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) "
        "FROM ({r}) AS r GROUP BY m, action ORDER BY m, action"
    ).format(r=records)
    params = {"since": since, "until": now}

    def ms(value) -> float | None:
        return round(float(value), 1) if value is not None else None

    actions = [
        {
            "action": action,
            "channel": channel,
            "calls": calls,
            "errors": errors,
            "in_flight": in_flight,
            "calls_per_min": round(calls / minutes, 3),
            "errors_per_min": round(errors / minutes, 3),
            "p50_ms": ms(p50),
            "p95_ms": ms(p95),
            "exec_p95_ms": ms(exec95),
        }
        for action, channel, calls, errors, p50, p95, exec95, in_flight in _rows(per_action, params)
    ]
    series = [
        {"minute": m, "action": action, "calls": calls, "errors": errors, "p95_ms": ms(p95)}
        for m, action, calls, errors, p95 in _rows(per_minute, params)
    ]
    return {
        "since": since,
        "until": now,
        "minutes": minutes,
        "actions": actions,
        "series": series,
        "query_ms": round((time.monotonic() - started) * 1000, 1),
    }
