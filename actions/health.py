"""Health of the parts Switchboard needs: database, broker, one worker per channel."""

import time

from django.conf import settings
from django.db import connection
from kombu import Connection

CHANNELS = ("user", "admin")


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        detail = check()
        state = {"ok": True}
        if detail:
            state.update(detail)
    except Exception as exc:
        state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    state["ms"] = round((time.monotonic() - started) * 1000, 1)
    return state


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with Connection(settings.BROKER_URL_USER, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def workers(timeout: float = 0.5) -> dict[str, list[str]]:
    """Ask every worker which channel it serves: {channel: [hostnames]}."""
    from config.celery import app

    replies = app.control.broadcast("switchboard_channel", reply=True, timeout=timeout) or []
    found: dict[str, list[str]] = {c: [] for c in CHANNELS}
    answers = {host: answer for reply in replies for host, answer in reply.items()}
    for hostname, answer in sorted(answers.items()):
        channel = (answer or {}).get("channel")
        if channel in found:
            found[channel].append(hostname)
    return found


def report() -> dict:
    parts = {"database": _timed(_database), "broker": _timed(_broker)}
    if parts["broker"]["ok"]:
        found: dict = {}
        probe = _timed(lambda: found.update(workers()))
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
    failing = sorted(name for name, part in parts.items() if not part["ok"])
    return {
        "status": "ok" if not failing else "degraded",
        "failing": failing,
        "environment": settings.SWITCHBOARD_ENV,
        "parts": parts,
    }
