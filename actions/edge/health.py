"""Health of the parts Switchboard needs: database, broker, and per channel one worker
and one AMQP ingress process; and whether the released code is the code its manifest pins
(`release`: drift, release/runtime.py)."""

import threading
import time
from typing import Any

import amqp
from django.conf import settings
from django.db import connection
from kombu import Connection

from actions.delivery.replies import broker_url
from config.queues import CHANNELS, INGRESS_LANES, ingress_lane_queue, ingress_name
from release import runtime


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        detail = check()
        state: dict[str, Any] = {"ok": True}
        if detail:
            state.update(detail)
    except Exception as exc:
        # The exception's type only: /health is public, and the text names hosts and users.
        state = {"ok": False, "error": type(exc).__name__}
    state["ms"] = round((time.monotonic() - started) * 1000, 1)
    return state


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with Connection(settings.BROKER_URL_USER, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


_probe_lock = threading.Lock()
_probe_cache: tuple[float, dict[str, list[str]]] = (0.0, {})
PROBE_TTL_S = 2.0


def workers_cached() -> dict[str, list[str]]:
    """`workers()`, at most once per PROBE_TTL_S per process: /health is public, and each
    probe is a broadcast to every worker."""
    global _probe_cache
    with _probe_lock:
        taken_at, found = _probe_cache
        if time.monotonic() - taken_at > PROBE_TTL_S:
            found = workers()
            _probe_cache = (time.monotonic(), found)
        return found


def workers(timeout: float = 0.5) -> dict[str, list[str]]:
    """Ask every worker which channel it serves: {channel: [hostnames]}."""
    # The process's Celery app (config/__init__.py sets it up): the edge does not import
    # the worker's modules, which config.celery's boot steps are.
    from celery import current_app

    replies = (
        current_app.control.broadcast("switchboard_channel", reply=True, timeout=timeout) or []
    )
    found: dict[str, list[str]] = {c: [] for c in CHANNELS}
    answers = {host: answer for reply in replies for host, answer in reply.items()}
    for hostname, answer in sorted(answers.items()):
        channel = (answer or {}).get("channel")
        if channel in found:
            found[channel].append(hostname)
    return found


def ingress_consumers(channel: str, name: str | None = None) -> dict:
    """How many ingress processes consume a channel's ingress queue (`name`, by default
    the channel's) and every one of its lanes (actions.edge.ingress; each process consumes
    all of them), and the backlog: the messages waiting in the queue and in its lanes."""
    # Each channel's own login: the user channel's may not look at the admin queues.
    name = name or ingress_name(channel)
    with Connection(broker_url(channel), connect_timeout=2) as conn:
        broker = conn.default_channel
        try:
            _, backlog, consumers = broker.queue_declare(queue=name, passive=True)
        except amqp.NotFound:  # no ingress process has ever declared it (a new broker)
            return {"consumers": 0, "backlog": 0}
        in_lanes, serving_all = 0, consumers
        try:
            for lane in range(INGRESS_LANES):
                queue = ingress_lane_queue(name, lane)
                _, waiting, serving = broker.queue_declare(queue=queue, passive=True)
                in_lanes += waiting
                serving_all = min(serving_all, serving)
        except amqp.ChannelError:  # no lanes (yet): only ingress processes from before them
            in_lanes, serving_all = 0, consumers
    return {"consumers": serving_all, "backlog": backlog + in_lanes}


def _ingress(channel: str) -> dict:
    found: dict = {}
    state = _timed(lambda: found.update(ingress_consumers(channel)))
    if state["ok"] and not found["consumers"]:
        state.update(ok=False, error="no ingress process consumes the queue")
    return {**state, **found}


def _release() -> dict:
    """Released actions whose code no longer matches the hash their manifest pins."""
    drift = [entry["action"] for entry in runtime.running_drift()]
    if not drift:
        return {"ok": True, "drift": []}
    return {"ok": False, "drift": drift, "error": "released code differs from its manifest"}


def report() -> dict:
    parts = {
        "database": _timed(_database),
        "broker": _timed(_broker),
        "release": _release(),
    }
    if parts["broker"]["ok"]:
        for channel in CHANNELS:
            parts[f"ingress.{channel}"] = _ingress(channel)
        found: dict = {}
        probe = _timed(lambda: found.update(workers_cached()))
        for channel in CHANNELS:
            hosts = found.get(channel, [])
            parts[f"worker.{channel}"] = {
                "ok": bool(hosts),
                "workers": hosts,
                "ms": probe["ms"],
                **({} if hosts else {"error": probe.get("error", "no worker answered")}),
            }
    else:
        for channel in CHANNELS:
            parts[f"worker.{channel}"] = {"ok": False, "error": "broker unreachable"}
            parts[f"ingress.{channel}"] = {"ok": False, "error": "broker unreachable"}
    failing = sorted(name for name, part in parts.items() if not part["ok"])
    return {
        "status": "ok" if not failing else "degraded",
        "failing": failing,
        "environment": settings.SWITCHBOARD_ENV,
        "parts": parts,
    }
