"""What keeps a tenant's statements cheap on a database connection, on the real database.

- Statements prepared by config.db get a generic plan at once and keep it: PostgreSQL's
  default (`plan_cache_mode = auto`) plans the first five executions anew, and keeps
  planning a statement whose constants make a custom plan look cheaper.
- The worker's access statement has one text per tenant schema (PostgreSQL plans a
  prepared statement again whenever the search_path differs from its last run).
- actions.connections.TenantConnections: a tenant's actions take the connection its
  schema prefers when it is free, another free one when not, the thread's own when all
  are taken; the thread gets its own connection back after.
"""

import threading
from types import SimpleNamespace

import pytest
from django.db import connection

from actions.connections import TenantConnections
from actions.worker.steps import ChannelStep
from config.db import execute_prepared
from tenants.services import access_statement


def _plans_of(text_start: str) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) "
            "FROM pg_prepared_statements WHERE statement LIKE %s",
            [text_start.replace("%", r"\%") + "%"],
        )
        generic, custom = cursor.fetchone()
    return int(generic), int(custom)


def _run_access(times: int, schema: str) -> None:
    statement, params = access_statement(user_id=None, slug="acme", schema=schema)
    for _ in range(times):
        row, _ = execute_prepared(statement, params, label="access_resolve")
        assert row is not None


@pytest.fixture
def fresh_connection():
    """A connection of its own: no prepared statement of an earlier test on it."""
    connection.close()
    yield
    connection.close()


def test_prepared_statements_get_a_generic_plan_from_the_first_execution(fresh_connection):
    _run_access(7, schema="acme")
    assert _plans_of("/* acme */") == (7, 0)


def test_the_default_plan_cache_mode_would_plan_the_access_statement_every_time(
    fresh_connection,
):
    # The check above can fail: with PostgreSQL's default, the first five executions of
    # each prepared statement are planned anew (custom plans), and at 1,000 tenants most
    # executions of a tenant's statement on a connection are among its first five.
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = auto")
    _run_access(7, schema="acme")
    generic, custom = _plans_of("/* acme */")
    assert custom >= 5 and generic < 7, (generic, custom)


def test_the_access_statement_has_one_text_per_schema():
    acme, _ = access_statement(user_id=1, slug="acme", schema="acme")
    beta, _ = access_statement(user_id=1, slug="beta", schema="beta")
    shared, _ = access_statement(user_id=1, slug="acme")
    assert acme != beta and acme.startswith("/* acme */") and not shared.startswith("/*")
    odd, _ = access_statement(user_id=1, slug="acme", schema="acme */ DROP TABLE x; /*")
    assert odd == shared  # a name of another form never goes into the text


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def pool():
    made = TenantConnections()
    yield made
    made.close()


def _schema_preferring(pool: TenantConnections, index: int) -> str:
    import zlib

    return next(f"t{i}" for i in range(1000) if zlib.crc32(f"t{i}".encode()) % pool.size == index)


def test_a_tenant_keeps_to_one_connection_from_any_thread(pool):
    pool.configure(3)
    own = _backend_pid()
    schema = _schema_preferring(pool, 1)
    seen = []

    def serve():
        with pool.serving(schema):
            seen.append(_backend_pid())

    with pool.serving(schema):
        seen.append(_backend_pid())
    for _ in range(3):
        thread = threading.Thread(target=serve)
        thread.start()
        thread.join()
    assert len(set(seen)) == 1 and seen[0] != own
    assert _backend_pid() == own  # the thread has its own connection back


def test_a_busy_connection_is_not_shared_and_all_busy_leaves_the_own_one(pool):
    pool.configure(2)
    schema = _schema_preferring(pool, 0)
    own = _backend_pid()
    entered, release = threading.Event(), threading.Event()
    held = []

    def hold():
        with pool.serving(schema):
            held.append(_backend_pid())
            entered.set()
            release.wait(10)

    holders = [threading.Thread(target=hold)]
    holders[0].start()
    assert entered.wait(10)
    with pool.serving(schema):  # its preferred one is taken: the other one
        other = _backend_pid()
    entered.clear()
    holders.append(threading.Thread(target=hold))
    holders[1].start()
    assert entered.wait(10)
    with pool.serving(schema):  # both taken: the thread's own
        fallback = _backend_pid()
    release.set()
    for thread in holders:
        thread.join()
    assert other != held[0] and other == held[1]
    assert fallback == own and own not in held


def test_a_unit_of_work_moves_to_its_tenants_connection_and_gives_it_back(pool):
    pool.configure(3)
    own = _backend_pid()
    schema = _schema_preferring(pool, 2)
    with pool.serving():  # the tenant not known yet: the first free one from ""'s
        first = _backend_pid()
        with pool.serving(schema):  # known: its own one, which is free
            moved = _backend_pid()
        assert _backend_pid() == moved  # kept to the end of the unit
        assert pool._busy.count(True) == 1
    assert first != moved and own not in (first, moved)
    assert _backend_pid() == own and pool._busy.count(True) == 0
    with pytest.raises(RuntimeError), pool.serving(schema):
        raise RuntimeError
    assert _backend_pid() == own and pool._busy.count(True) == 0
    with pool.serving(schema):
        assert _backend_pid() == moved  # the same connection, warm for it


def test_off_by_default_and_on_for_a_threads_worker_only(pool, monkeypatch):
    from celery.concurrency.prefork import TaskPool as PreforkPool
    from celery.concurrency.thread import TaskPool as ThreadsPool

    own = _backend_pid()
    with pool.serving("acme"):
        assert _backend_pid() == own  # size 0: no connection of its own
    assert pool._wrappers == []

    from actions import connections
    from actions.worker import steps

    monkeypatch.setattr(steps, "served_channel", None)  # ChannelStep sets it
    configured = []
    monkeypatch.setattr(connections.tenant_connections, "configure", configured.append)
    app = SimpleNamespace(
        conf=SimpleNamespace(), amqp=SimpleNamespace(queues=SimpleNamespace(select=lambda q: None))
    )
    for pool_cls, concurrency in ((ThreadsPool, 8), (PreforkPool, 2)):
        worker = SimpleNamespace(pool_cls=pool_cls, concurrency=concurrency, app=app)
        ChannelStep(worker, channel="user")
    assert configured == [8]
