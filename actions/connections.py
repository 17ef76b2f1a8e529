"""Database connections of long-lived threads (web executor threads, ingress threads,
worker threads), which never see Django's request_started/finished signals; and their
Redis clients (`thread_redis`).

Django's `close_old_connections` with CONN_HEALTH_CHECKS pings the database before every
unit of work: one more round trip per action. Instead a connection is dropped when a
query on it failed (the database restarted, the network broke) or it reached
CONN_MAX_AGE, and the next unit of work opens a fresh one.
"""

import threading
import time

import redis
from django.db import connection

_redis = threading.local()


def thread_redis(url: str, *, socket_timeout: float) -> redis.Redis:
    """This thread's Redis client for `url` (the rate limits, the fairness slots): short
    timeouts, since every caller fails open when Redis does not answer."""
    clients: dict = _redis.__dict__.setdefault("clients", {})
    key = (url, socket_timeout)
    if key not in clients:
        clients[key] = redis.Redis.from_url(
            url, socket_connect_timeout=0.2, socket_timeout=socket_timeout, health_check_interval=30
        )
    client: redis.Redis = clients[key]
    return client


def connection_ready() -> None:
    """Call before each unit of work (an action, an ingress message)."""
    if connection.connection is None:
        return
    aged = connection.close_at is not None and time.monotonic() >= connection.close_at
    if connection.errors_occurred or aged or connection.needs_rollback:
        connection.close_if_unusable_or_obsolete()
    if connection.connection is not None and connection.errors_occurred:
        connection.close()  # it answered the ping, but a failed query may have left it odd


def dependency_lost(exc: BaseException | None) -> str | None:
    """Which dependency `exc` (or an exception it was raised from) says is unreachable:
    "database", "broker" or None (a bug or an expected refusal). A dependency briefly down
    is answered `unavailable` (503, retryable), never `internal_error`."""
    import socket

    import amqp
    import kombu.exceptions
    import psycopg
    from django.db import utils

    seen = 0
    while exc is not None and seen < 8:
        if isinstance(
            exc, (utils.OperationalError, utils.InterfaceError, psycopg.OperationalError)
        ) or isinstance(exc, psycopg.InterfaceError):
            return "database"
        if isinstance(
            exc,
            (
                kombu.exceptions.OperationalError,
                amqp.RecoverableConnectionError,
                amqp.ConnectionForced,
                ConnectionError,
                socket.timeout,
            ),
        ):
            return "broker"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def drop_connection() -> None:
    """Close this thread's database connection after it failed (the next use opens one)."""
    try:
        connection.close()
    except Exception:  # closing a connection the server already dropped
        connection.connection = None
