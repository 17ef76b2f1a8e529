"""Per-process cache of the access statement's rows, invalidated by PostgreSQL itself.

The edge asks `tenants.services.access_resolve` for every message: who is calling, which
tenant, which roles. The answer changes only when one of five public tables changes
(users, tenants, memberships, super-admin grants, revoked tokens), and each of them
notifies the channel `switchboard_access` on every write (statement triggers, migration
tenants/0006). A process that turns the cache on (`start`: the web process and the AMQP
ingress) keeps one connection listening on that channel; any notification empties the
cache. So the cache answers only while it is sure to hear of a change:
- before the listener's LISTEN succeeded, and from when its connection is found lost,
  nothing is cached or served (every call asks the database, as without the cache); it
  checks its connection every second, and a connection that hangs without failing (no
  answer for _FRESH_S, TCP keepalives) counts as lost;
- a row read while a notification arrived is not stored (a generation counter), so an
  answer read before a change cannot outlive the change's notification.
What remains is the notification's delivery time, about a millisecond after the change
commits: a request in that window is answered as if it had come a millisecond earlier.
The worker never uses the cache: its first delivery checks the roles and the user again,
fresh, in the claim's round trip, so a role removed or a user deactivated meanwhile still
refuses the action (a revoked token is the edge's check alone).

Rows that depend on the clock are not cached: one with a super-admin grant (it lapses at
its `expires_at`); the token's own expiry is checked at every use by the caller.
Rows for a tenant or user that does not exist are not cached either, so invented names
cannot fill the cache; it holds at most MAX_ENTRIES rows (a few KB each: the tenant's
row with its config) and starts afresh when full. Every write to the five tables empties
it, a token refresh too (it revokes the old refresh token): the cache pays where the
same token sends many actions.
"""

import logging
import threading
import time
from typing import Any

import psycopg
import psycopg.sql
from django.conf import settings

log = logging.getLogger(__name__)

CHANNEL = "switchboard_access"
_LISTEN = psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(CHANNEL))
MAX_ENTRIES = 10_000
_RETRY_S = 1.0
_POLL_S = 1.0  # how often the listener checks its connection and whether to stop
# Served only while the listener's connection answered this recently: a connection that
# hangs without failing (a network partition) stops the cache within this bound.
_FRESH_S = 3 * _POLL_S
# TCP keepalives and a send timeout, so that a dead peer fails the connection soon.
_KEEPALIVE: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 5000,
}

_rows: dict[tuple, list[Any]] = {}
_generation = 0
_listening = False
_lock = threading.Lock()
_listener: "_Listener | None" = None
_checked_at = 0.0  # monotonic time of the listener's last answer from PostgreSQL


def lookup(key: tuple) -> tuple[list[Any] | None, int | None]:
    """(the cached row or None, the generation to `store` under; None: do not store)."""
    if not _listening or time.monotonic() - _checked_at > _FRESH_S:
        return None, None
    generation = _generation
    return _rows.get(key), generation


def store(key: tuple, row: list[Any], generation: int | None) -> None:
    """Keep `row`, read at `generation`, unless a change was heard since."""
    if generation is None:
        return
    with _lock:
        if not _listening or generation != _generation:
            return
        if len(_rows) >= MAX_ENTRIES:
            _rows.clear()
        _rows[key] = row


def invalidate() -> None:
    global _generation
    with _lock:
        _generation += 1
        _rows.clear()


def listening() -> bool:
    return _listening


def start() -> None:
    """Turn the cache on in this process: start the listener (idempotent)."""
    global _listener
    if not settings.SWITCHBOARD.get("ACCESS_CACHE", True):
        return
    with _lock:
        if _listener is not None:
            return
        _listener = _Listener()
    _listener.start()


def stop(timeout: float = _POLL_S + 1) -> None:
    """Turn the cache off again (tests): nothing is cached or served afterwards."""
    global _listener
    with _lock:
        listener, _listener = _listener, None
    if listener is not None:
        listener.stopping.set()
        _set_listening(listener, False)
        listener.join(timeout)


def wait_listening(timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not _listening and time.monotonic() < deadline:
        time.sleep(0.01)
    return _listening


def _set_listening(listener: "_Listener", on: bool) -> None:
    """Only the current listener turns the cache on; any listener may turn it off."""
    global _listening, _generation
    with _lock:
        if on and listener is not _listener:
            return
        _listening = on
        _generation += 1
        _rows.clear()


def _connect() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=True,
        connect_timeout=5,
        application_name="switchboard-access-cache",
        **_KEEPALIVE,
    )


def _answered() -> None:
    global _checked_at
    _checked_at = time.monotonic()


def listener_pid() -> int | None:
    """The PostgreSQL backend of this process's listener (tests cut it)."""
    return getattr(_listener, "backend_pid", None)


class _Listener(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="access-cache", daemon=True)
        self.stopping = threading.Event()
        self.backend_pid: int | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with _connect() as conn:
                    self.backend_pid = conn.info.backend_pid
                    conn.execute(_LISTEN)
                    _answered()
                    _set_listening(self, True)  # from now on every change is heard
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=_POLL_S):
                            invalidate()
                        conn.execute("SELECT 1")  # a dead connection shows here
                        _answered()
            except Exception as exc:  # noqa: BLE001  (any failure: serve nothing cached, retry)
                if not self.stopping.is_set():
                    log.warning("access cache off until PostgreSQL answers again: %r", exc)
            finally:
                if _listener is self or _listener is None:
                    _set_listening(self, False)
            self.stopping.wait(_RETRY_S)
