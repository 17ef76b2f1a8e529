"""Database connections of long-lived threads (web executor threads, ingress threads,
worker threads), which never see Django's request_started/finished signals; and their
Redis clients (`thread_redis`) and connections (`redis_round_trip`, `run_scripts`).

Django's `close_old_connections` with CONN_HEALTH_CHECKS pings the database before every
unit of work: one more round trip per action. Instead a connection is dropped when a
query on it failed (the database restarted, the network broke) or it reached
CONN_MAX_AGE, and the next unit of work opens a fresh one.
"""

import contextlib
import functools
import hashlib
import logging
import os
import random
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import redis
from django.db import DEFAULT_DB_ALIAS, connection, connections

_redis = threading.local()
log = logging.getLogger(__name__)


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


# This process's id, kept up to date across forks: os.getpid() is a system call, and the
# hot path asks for it on every Redis call and every unit of work.
_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def process_id() -> int:
    return _pid[0]


def _own_connection(url: str, socket_timeout: float) -> redis.Connection:
    """This thread's own Redis connection for `url`, taken from its client's pool once and
    kept (a forked child makes its own: a socket is never shared across processes)."""
    conns: dict = _redis.__dict__.setdefault("connections", {})
    key = (url, socket_timeout)
    pid = process_id()
    held = conns.get(key)
    if held is None or held[0] != pid:
        client = thread_redis(url, socket_timeout=socket_timeout)
        held = conns[key] = (pid, client.connection_pool.get_connection())
    conn: redis.Connection = held[1]
    return conn


def redis_round_trip(url: str, *, socket_timeout: float, commands: Sequence[Sequence[Any]]) -> list:
    """`commands` in one round trip on this thread's own connection; their replies. The hot
    path's calls (the rate limits, the fairness slots) go this way: redis-py's connection
    (its protocol and parser) without its client's per-command layers (the pool's
    checkout, observability, argument checks: about 50 us of CPU a call more, measured in
    docs/performance.md).
    Before sending, the connection is checked as the pool checks one it lends: one the
    server closed (Redis restarted, a timeout, a kill) or that holds unread data is
    replaced, so that a restart costs no failed call. An error reply raises as the client
    would (ResponseError, NoScriptError); any error drops the connection, so that the
    next call starts on a clean one."""
    conn = _own_connection(url, socket_timeout)
    try:
        if conn.is_connected and (conn.should_reconnect() or conn.can_read()):
            conn.disconnect()  # closed by the server, unread data, or told to move
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        conn.disconnect()
    try:
        conn.send_packed_command(conn.pack_commands(commands))
        return [conn.read_response() for _ in commands]
    except BaseException:
        conn.disconnect()
        raise


@functools.cache
def script_sha(source: str) -> str:
    """What SCRIPT LOAD answers for `source`."""
    return hashlib.sha1(source.encode()).hexdigest()


def run_scripts(
    url: str,
    *,
    socket_timeout: float,
    source: str,
    calls: Sequence[tuple[Sequence, Sequence]],
    then: Sequence[Sequence[Any]] = (),
) -> list:
    """Run the Lua script `source` once per (keys, args) of `calls`, by its SHA, and the
    commands `then` after them, in one round trip; the scripts' replies. The script is
    loaded and all run again if Redis does not know it yet (or restarted)."""
    sha = script_sha(source)
    commands: list[Sequence[Any]] = [
        ("EVALSHA", sha, len(keys), *keys, *args) for keys, args in calls
    ]
    commands += then
    try:
        replies = redis_round_trip(url, socket_timeout=socket_timeout, commands=commands)
    except redis.exceptions.NoScriptError:
        redis_round_trip(url, socket_timeout=socket_timeout, commands=[("SCRIPT", "LOAD", source)])
        replies = redis_round_trip(url, socket_timeout=socket_timeout, commands=commands)
    return replies[: len(calls)]


def connection_ready() -> None:
    """Call before each unit of work (an action, an ingress message): a connection past
    its age is closed; one whose last query failed is pinged, and closed unless it
    answers (Django's `close_if_unusable_or_obsolete`: a failed query of a live
    connection, a handler's unique violation say, costs it nothing)."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # once: each `connection.<name>` looks it up
    if wrapper.connection is None:
        return
    aged = wrapper.close_at is not None and time.monotonic() >= wrapper.close_at
    if wrapper.errors_occurred or aged or wrapper.needs_rollback:
        wrapper.close_if_unusable_or_obsolete()


# Connections opened together (a process's pool, filled as it starts) would reach
# CONN_MAX_AGE together, and every tenant's next action would then pay for a new
# connection and its statements' plans at the same moment. Each new connection is given
# up to this share of the age less, at random.
MAX_AGE_SPREAD = 0.25


def spread_max_age(sender=None, connection=None, **kwargs) -> None:
    """Django's `connection_created` receiver (actions.apps): a new connection's close
    time, moved earlier by up to MAX_AGE_SPREAD of CONN_MAX_AGE."""
    if connection is not None and connection.close_at is not None:  # CONN_MAX_AGE not None
        max_age = connection.settings_dict["CONN_MAX_AGE"]
        connection.close_at -= random.uniform(0, MAX_AGE_SPREAD * max_age)


class TenantConnections:
    """A tenant's actions on the same database connection, whenever it is free.

    PostgreSQL learns per connection what a tenant's statements need: the descriptions of
    its tables (the relation cache) and the plans of its prepared statements (config/db.py).
    A thread's own connection serves whichever tenant its thread is handed, so at 1,000
    tenants most actions met tables and statements their connection had not, and paid for
    them again (0.3-0.6 ms each, docs/performance.md "A thousand tenants").

    A process whose `size` threads do units of work (the worker's threads, the web's edge
    pool, the ingress's threads: each configures its own) keeps `size` connections here,
    and its threads use them instead of their own: a unit of work takes one for its whole
    length (`serving`): its tenant's if the tenant is known and its connection free, else
    the one this thread had last, else the next free one; once it knows its tenant, a unit
    moves to the tenant's connection if that one is free (outside a transaction). `size`
    threads never find them all taken, so a thread's own connection stays closed; each
    connection comes to serve about 1/`size` of the tenants, and keeps them warm. Work
    over every tenant (the outbox sweep, the purges) takes one more connection of its own
    (`MAINTENANCE`), so that no tenant's connection holds every tenant's tables. Size 0
    (the default; a prefork child, one thread; tests) leaves every thread on its own.
    """

    MAINTENANCE = "\x00maintenance"  # the key of work over every tenant: its own connection

    def __init__(self) -> None:
        self.size = 0
        self._lock = threading.Lock()
        self._wrappers: list = []  # `size` by tenant, then the maintenance one
        self._busy: list[bool] = []
        self._generation = 0  # a unit holding a slot of an older generation frees nothing
        self._pid = 0
        self._held = threading.local()  # .slot: (generation, index) held; .own; .last

    def configure(self, size: int) -> None:
        with self._lock:
            self.size = size

    def close(self) -> None:
        """Off, and every connection closed (a process stopping, a test ending): a free one
        now, one in use by its unit when the unit ends."""
        with self._lock:
            self.size, self._generation = 0, self._generation + 1
            free = [w for w, busy in zip(self._wrappers, self._busy, strict=True) if not busy]
            self._wrappers, self._busy = [], []
        for wrapper in free:
            _close_quietly(wrapper)

    @contextlib.contextmanager
    def serving(self, key: str | None = None) -> Iterator[None]:
        """Run the block on a connection of the pool (django.db.connection is it), checked
        first as `connection_ready` checks one; inside a block that holds one already,
        move to the one `key` (a tenant's schema or slug) prefers, if it is free. `key` is
        only hashed: any string, even a client's, picks a connection and nothing else."""
        if getattr(self._held, "slot", None) is not None:
            if key is not None:
                self._move_to(key)
            yield
            return
        slot = self._take(key, holding=None)
        if slot is None:  # the thread's own connection, checked alike
            connection_ready()
            yield
            return
        generation, index, wrapper = slot
        self._held.slot, self._held.own = (generation, index), connections[DEFAULT_DB_ALIAS]
        connections[DEFAULT_DB_ALIAS] = wrapper
        try:
            connection_ready()  # one left broken by an earlier unit of work is dropped
            yield
        finally:
            held, self._held.slot = self._held.slot, None
            wrapper = connections[DEFAULT_DB_ALIAS]
            connections[DEFAULT_DB_ALIAS] = self._held.own
            self._held.own = None
            self._free(held, wrapper)

    def _move_to(self, key: str) -> None:
        if connection.in_atomic_block:  # a transaction stays on its connection
            return
        held = self._held.slot
        slot = self._take(key, holding=held)
        if slot is None:
            return
        generation, index, wrapper = slot
        previous = connections[DEFAULT_DB_ALIAS]
        connections[DEFAULT_DB_ALIAS] = wrapper
        self._held.slot = (generation, index)
        self._free(held, previous)
        connection_ready()

    def _free(self, held: tuple[int, int], wrapper) -> None:
        generation, index = held
        with self._lock:
            current = generation == self._generation
            if current:
                self._busy[index] = False
        if current:
            self._held.last = index
        else:  # closed while it was in use: its unit closes it
            _close_quietly(wrapper)

    def _take(self, key: str | None, *, holding: tuple[int, int] | None):
        """Take a slot: (generation, index, wrapper), or None (off, all taken, or no move
        to make). Holding one, only the slot `key` prefers will do."""
        with self._lock:
            if not self.size:
                return None
            if self._pid != process_id():  # none inherited across a fork: no socket is shared
                self._pid, self._wrappers, self._busy = process_id(), [], []
                self._generation += 1
            while len(self._wrappers) < self.size + 1:
                wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
                wrapper.inc_thread_sharing()  # used by one thread at a time, any thread
                self._wrappers.append(wrapper)
                self._busy.append(False)
            if key == self.MAINTENANCE:
                candidates = [self.size]  # its own one, or the thread's own
            else:
                if key is not None:
                    preferred = zlib.crc32(key.encode("utf-8", "surrogatepass")) % self.size
                else:
                    last = getattr(self._held, "last", None)
                    if isinstance(last, int) and last < self.size:
                        preferred = last
                    else:
                        preferred = threading.get_ident() % self.size
                if holding is not None:
                    if holding == (self._generation, preferred):
                        return None
                    candidates = [preferred]
                else:
                    candidates = [(preferred + k) % self.size for k in range(self.size)]
            for index in candidates:
                if not self._busy[index]:
                    self._busy[index] = True
                    return self._generation, index, self._wrappers[index]
            return None


def _close_quietly(wrapper) -> None:
    try:
        wrapper.close()
    except Exception:  # one the server dropped already
        log.warning("could not close a pooled database connection", exc_info=True)


tenant_connections = TenantConnections()


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


def database_back(
    timeout: float, every: float = 0.5, *, stop: threading.Event | None = None
) -> bool:
    """Wait until this thread reaches the database again (a fresh connection answers a
    query), at most `timeout` seconds, or until `stop` is set (the process is shutting
    down). True if it did."""
    deadline = time.monotonic() + timeout
    stop = stop or threading.Event()
    while True:
        try:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except Exception:
            drop_connection()
            if time.monotonic() >= deadline or stop.wait(every):
                return False


def drop_connection() -> None:
    """Close this thread's database connection after it failed (the next use opens one)."""
    try:
        connection.close()
    except Exception:  # closing a connection the server already dropped
        connection.connection = None
