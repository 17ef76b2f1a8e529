"""Database connections of long-lived threads (web executor threads, ingress threads,
worker threads), which never see Django's request_started/finished signals.

Django's `close_old_connections` with CONN_HEALTH_CHECKS pings the database before every
unit of work: one more round trip per action. Instead a connection is dropped when a
query on it failed (the database restarted, the network broke) or it reached
CONN_MAX_AGE, and the next unit of work opens a fresh one.
"""

import time

from django.db import connection


def connection_ready() -> None:
    """Call before each unit of work (an action, an ingress message)."""
    if connection.connection is None:
        return
    aged = connection.close_at is not None and time.monotonic() >= connection.close_at
    if connection.errors_occurred or aged or connection.needs_rollback:
        connection.close_if_unusable_or_obsolete()
    if connection.connection is not None and connection.errors_occurred:
        connection.close()  # it answered the ping, but a failed query may have left it odd
