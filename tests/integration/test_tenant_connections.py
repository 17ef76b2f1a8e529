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
import time
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, connections

from actions.connections import TenantConnections, connection_ready
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
    with pool.serving():  # the tenant not known yet: the connection this thread had last
        landed = pool._held.slot[1]
        first = _backend_pid()
        schema = _schema_preferring(pool, (landed + 1) % 3)
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
    with pool.serving():
        assert _backend_pid() == moved  # unkeyed: where this thread was last


def test_work_over_every_tenant_has_a_connection_of_its_own(pool):
    pool.configure(2)
    own = _backend_pid()
    tenants = set()
    for index in range(2):
        with pool.serving(_schema_preferring(pool, index)):
            tenants.add(_backend_pid())
    entered, release = threading.Event(), threading.Event()

    def sweep():
        with pool.serving(pool.MAINTENANCE):
            tenants_or_not.append(_backend_pid())
            entered.set()
            release.wait(10)

    tenants_or_not: list[int] = []
    thread = threading.Thread(target=sweep)
    thread.start()
    assert entered.wait(10)
    with pool.serving(pool.MAINTENANCE):  # taken: the thread's own
        second = _backend_pid()
    release.set()
    thread.join()
    assert tenants_or_not[0] not in tenants and second == own


def test_closing_while_a_unit_runs_closes_its_connection_when_it_ends(pool):
    pool.configure(2)
    entered, release = threading.Event(), threading.Event()
    used = []

    def unit():
        with pool.serving("acme"):
            used.append(connections["default"])
            _backend_pid()
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=unit)
    thread.start()
    assert entered.wait(10)
    pool.close()  # the running unit's connection stays open until it ends
    wrapper = used[-1]
    assert wrapper.connection is not None
    pool.configure(2)
    with pool.serving("acme"):  # a new generation: not the closed pool's slot or connection
        assert connections["default"] is not wrapper
    release.set()
    thread.join()
    assert wrapper.connection is None  # closed by its unit, at its end
    assert pool._busy == [False, False, False]


def test_a_task_takes_its_tenants_connection_and_an_eager_one_takes_none(monkeypatch):
    from actions import connections as module
    from actions.worker import tasks

    made = TenantConnections()
    monkeypatch.setattr(module, "tenant_connections", made)
    monkeypatch.setattr(tasks, "tenant_connections", made)
    made.configure(3)
    try:
        schema = _schema_preferring(made, 1)
        task = SimpleNamespace(name=tasks.execute_task("user"), request=SimpleNamespace())
        tasks._take_connection(task=task, args=(schema, "id"), kwargs={})
        assert made._held.slot[1] == 1
        tasks._give_connection_back(task=task)
        assert made._held.slot is None and made._busy.count(True) == 0
        sweep = SimpleNamespace(name="outbox_sweep", request=SimpleNamespace())
        tasks._take_connection(task=sweep, args=(), kwargs={})
        assert made._held.slot[1] == 3  # the maintenance connection
        eager = SimpleNamespace(
            name=tasks.execute_task("user"), request=SimpleNamespace(is_eager=True)
        )
        tasks._take_connection(task=eager, args=(schema, "id"), kwargs={})  # inside: nothing
        tasks._give_connection_back(task=eager)
        assert made._held.slot[1] == 3
        tasks._give_connection_back(task=sweep)
        assert made._held.slot is None
    finally:
        made.close()


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
    # --autoscale 12,3: as many connections as it may have threads, not as it starts with
    autoscaled = SimpleNamespace(pool_cls=ThreadsPool, concurrency=3, max_concurrency=12, app=app)
    ChannelStep(autoscaled, channel="user")
    assert configured == [8, 12]


def test_the_edge_moves_a_request_to_its_tenants_connection(tokens, monkeypatch):
    import json
    import zlib

    from actions.contract.registry import Channel
    from actions.edge import pipeline
    from tests.conftest import envelope

    made = TenantConnections()
    monkeypatch.setattr(pipeline, "tenant_connections", made)
    made.configure(3)
    acme = zlib.crc32(b"acme") % 3
    ingress = pipeline.Ingress(
        channel=Channel.USER,
        body=json.dumps(
            envelope("analytics.cta.record", {"surface": "web", "cta_id": "signup"})
        ).encode(),
        authorization=f"Bearer {tokens['member@acme.test']}",
    )
    try:
        with made.serving(_schema_preferring(made, (acme + 1) % 3)):  # as _run_ready lands
            outcome = pipeline.submit(ingress)
            assert outcome.envelope["status"] == "pending"
            assert made._held.slot[1] == acme  # stored on acme's connection
            assert connections["default"] is made._wrappers[acme]
    finally:
        made.close()


def test_connections_opened_together_do_not_reach_their_age_together():
    """A process opens its pool's connections together as it starts: each is given up to
    a quarter of CONN_MAX_AGE less, at random, so that they are not all closed (and every
    tenant's statements planned again) at the same moment."""
    from actions.connections import MAX_AGE_SPREAD

    max_age = connection.settings_dict["CONN_MAX_AGE"]
    assert max_age and max_age > 0
    wrappers = [connections.create_connection("default") for _ in range(8)]
    try:
        ages = []
        for wrapper in wrappers:
            opened = time.monotonic()
            wrapper.ensure_connection()
            ages.append(wrapper.close_at - opened)
        assert all(max_age * (1 - MAX_AGE_SPREAD) - 1 <= age <= max_age for age in ages), ages
        assert max(ages) - min(ages) > 1, ages  # 8 draws over 150 s
    finally:
        for wrapper in wrappers:
            wrapper.close()


def test_a_connection_past_its_age_is_replaced_before_the_next_unit_of_work(fresh_connection):
    first = _backend_pid()
    connection_ready()
    assert _backend_pid() == first  # not aged: kept
    connection.close_at = time.monotonic() - 1
    connection_ready()
    assert connection.connection is None
    assert _backend_pid() != first


def test_a_failed_query_costs_a_live_connection_nothing_and_a_dead_one_its_place(
    fresh_connection,
):
    first = _backend_pid()
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    assert connection.errors_occurred
    connection_ready()  # it answers the ping: kept
    assert _backend_pid() == first and not connection.errors_occurred
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # the server ends it
    assert connection.errors_occurred
    connection_ready()  # it does not answer: replaced
    assert _backend_pid() != first
