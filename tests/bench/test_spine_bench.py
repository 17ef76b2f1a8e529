"""Benchmark of issue 8: the whole pipeline against bare reliable Celery, in the same run.

The action is `analytics.cta.record` (one CtaEvent row in tenant `acme`); the baseline is a
bare Celery task doing the same insert (late acks, reject on worker lost, prefetch 1,
publisher confirms, rpc result), on a worker with the same pool and concurrency as ours.
Switchboard runs as `make run` runs it: an ASGI web process, a user worker and a user AMQP
ingress process, each its own OS process, with rate limits on (acme's limits raised so the
bench is not refused). Clients are outside: HTTP/1.1 and pika.

Prints every figure and its ratio to the baseline; asserts only that every action was
answered (`make bench`; docs/performance.md records the figures and the machine).
"""

import pytest
from django.conf import settings
from django.db import connection

from tenants.models import Tenant, User
from tenants.tokens import token_issue_pair
from tests.bench import spine
from tests.bench.bare_celery import measure_bare, start_bare_worker, stop_bare_worker

pytestmark = pytest.mark.bench
# Each pool in turn, the same for the bare worker and ours: threads x8 is the Procfile's.
POOLS = [("threads", 8), ("prefork", 2)]
CLIENT_THREADS, N, SERIAL_N, IN_FLIGHT, WAITERS = 8, 2000, 300, 8, 1000


@pytest.fixture
def generous_limits(monkeypatch):
    """Rate limits on, as in production, with acme's per-minute limits at their maximum."""
    acme = Tenant.objects.get(schema_name="acme")
    saved = dict(acme.config)
    acme.config = {
        **saved,
        "rate_limits": {"per_tenant_per_minute": 100000, "per_actor_per_minute": 10000},
    }
    acme.save(update_fields=["config"])
    monkeypatch.setenv("SWITCHBOARD_TEST_RATE_LIMITS", "1")  # read by the stack's processes
    yield
    acme.config = saved
    acme.save(update_fields=["config"])


def _token(email: str) -> str:
    return token_issue_pair(user=User.objects.get(email=email))["access_token"]


def _cleanup() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM acme.actions_ctaevent WHERE surface = 'bench-spine'")


@pytest.mark.parametrize(("pool", "concurrency"), POOLS)
def test_spine_against_bare_celery(pool, concurrency, generous_limits, capsys):
    from actions.edge import health

    # Nobody else may consume what is measured (another bench module's workers, make run).
    assert not any(health.workers(timeout=0.5).values()), "other workers are running"
    assert not health.ingress_consumers("user")["consumers"], "another ingress is running"
    bare_worker = start_bare_worker(pool=pool, concurrency=concurrency)
    try:
        bare = measure_bare(threads=CLIENT_THREADS, n=N, serial_n=SERIAL_N)
    finally:
        stop_bare_worker(bare_worker)

    rest_token, amqp_token = _token("member@acme.test"), _token("owner@acme.test")
    stack = spine.Stack(worker_pool=pool, worker_concurrency=concurrency)
    stack.start(settings.VAR_DIR)
    try:
        spine.rest_load(stack.port, rest_token, threads=CLIENT_THREADS, n=200)  # warm-up
        rest = spine.rest_load(stack.port, rest_token, threads=CLIENT_THREADS, n=N)
        rest_serial = spine.rest_load(stack.port, rest_token, threads=1, n=SERIAL_N)
        spine.amqp_load(settings.BROKER_URL_CLIENT, amqp_token, n=200, in_flight=IN_FLIGHT)
        amqp = spine.amqp_load(settings.BROKER_URL_CLIENT, amqp_token, n=N, in_flight=IN_FLIGHT)
        amqp_serial = spine.amqp_load(
            settings.BROKER_URL_CLIENT, amqp_token, n=SERIAL_N, in_flight=1
        )
        waiters = spine.many_waiters(stack, rest_token, clients=WAITERS, wait=10)
    finally:
        stack.stop()
        _cleanup()

    rows = [
        ("bare Celery", bare["throughput"], bare["p50_ms"], bare["p95_ms"]),
        ("REST ?wait", rest["throughput"], rest_serial["p50_ms"], rest_serial["p95_ms"]),
        ("AMQP ingress", amqp["throughput"], amqp_serial["p50_ms"], amqp_serial["p95_ms"]),
    ]
    with capsys.disabled():
        print(
            f"\n[bench] spine: {N} x analytics.cta.record, {CLIENT_THREADS} clients "
            f"({IN_FLIGHT} in flight over AMQP); latency one at a time ({SERIAL_N} calls); "
            f"workers {pool} x{concurrency}"
        )
        print(f"[bench] {'path':14s} {'actions/s':>10s} {'ratio':>6s} {'p50 ms':>7s} "
              f"{'x bare':>7s} {'p95 ms':>7s}")  # fmt: skip
        for name, rate, p50, p95 in rows:
            print(
                f"[bench] {name:14s} {rate:10.0f} {rate / bare['throughput']:6.2f} "
                f"{p50:7.1f} {p50 / bare['p50_ms']:7.2f} {p95:7.1f}"
            )
        print(
            f"[bench] {waiters['clients']} REST clients waiting at once (?wait=10): "
            f"{waiters['answered']} answered in {waiters['elapsed_s']:.1f} s, p50 "
            f"{waiters['p50_ms'] or 0:.0f} ms, slowest {waiters['max_ms'] or 0:.0f} ms; "
            f"web process threads at most {waiters['peak_web_threads']}"
        )
    assert bare["completed"] == N
    assert rest["errors"] == 0 and rest["count"] == N, rest["first_error"]
    assert amqp["errors"] == 0 and amqp["count"] == N, amqp["first_error"]
    assert rest_serial["errors"] == 0 and amqp_serial["errors"] == 0
    assert waiters["answered"] == WAITERS
