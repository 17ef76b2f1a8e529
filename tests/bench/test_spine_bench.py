"""Benchmark of issue 8: the whole pipeline against bare reliable Celery, in the same run.

The action is `analytics.cta.record` (one CtaEvent row in tenant `acme`); the baseline is a
bare Celery task doing the same insert (late acks, reject on worker lost, prefetch 1,
publisher confirms, rpc result), on a worker with the same pool and concurrency as ours.
Both run side by side and are measured in ROUNDS rounds, each path in turn (bare, REST,
AMQP), so that the machine's drift from minute to minute falls on all three alike; each
figure is over all rounds, and the spread of the per-round throughput ratios is printed.
Switchboard runs as `make run` runs it: an ASGI web process, a user worker and a user AMQP
ingress process, each its own OS process, with rate limits on (acme's limits raised so the
bench is not refused). Clients are outside: HTTP/1.1 and pika.

Prints every figure and its ratio to the baseline; asserts only that every action was
answered (`make bench`; docs/performance.md records the figures and the machine).
"""

import contextlib

import pytest
from django.conf import settings
from django.db import connection

from tenants.models import Tenant, User
from tenants.tokens import token_issue_pair
from tests.bench import spine
from tests.bench.bare_celery import (
    WARM_CALLS,
    bare_load,
    bare_rows,
    bare_serial,
    bare_warm,
    delete_bare_rows,
    start_bare_worker,
    stop_bare_worker,
)

pytestmark = pytest.mark.bench
# Each pool in turn, the same for the bare worker and ours: threads x8 is the Procfile's.
POOLS = [("threads", 8), ("prefork", 2)]
CLIENT_THREADS, N, SERIAL_N, IN_FLIGHT, WAITERS = 8, 2000, 300, 8, 1000
ROUNDS = 4


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


def _vacuum() -> None:
    """Dead rows of earlier runs out of the tables both sides write. A database that
    never vacuums (this machine's PostgreSQL runs with autovacuum off: conf.d/90-ci.conf)
    piles them up run after run, and the pipeline, which updates its records, paid more
    for them than the bare task, which only inserts: 400,000 dead record rows made the
    same code read 0.63 instead of 0.67 (docs/performance.md). Production runs
    autovacuum (docs/operations.md)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) acme.actions_actionrecord, acme.actions_ctaevent")


def _in_rounds(**measures) -> dict[str, list[dict]]:
    """ROUNDS rounds, each path's measurement in turn: the machine's speed drifts by tens
    of per cent from minute to minute, and a baseline measured before the rest would
    carry the drift into the ratio. {path: [figures of each round]}."""
    out: dict[str, list[dict]] = {path: [] for path in measures}
    for _ in range(ROUNDS):
        for path, measure in measures.items():
            out[path].append(measure())
    return out


@pytest.mark.parametrize(("pool", "concurrency"), POOLS)
def test_spine_against_bare_celery(pool, concurrency, generous_limits, capsys):
    from actions.edge import health

    # Nobody else may consume what is measured (another bench module's workers, make run).
    assert not any(health.workers(timeout=0.5).values()), "other workers are running"
    assert not health.ingress_consumers("user")["consumers"], "another ingress is running"
    rest_token, amqp_token = _token("member@acme.test"), _token("owner@acme.test")
    url = settings.BROKER_URL_CLIENT
    with contextlib.ExitStack() as cleanup:  # each clean-up runs even if another fails
        cleanup.callback(_cleanup)
        cleanup.callback(delete_bare_rows)
        delete_bare_rows()  # leftovers of an interrupted run would inflate the count
        _vacuum()
        bare_worker = start_bare_worker(pool=pool, concurrency=concurrency)
        cleanup.callback(stop_bare_worker, bare_worker)
        stack = spine.Stack(worker_pool=pool, worker_concurrency=concurrency)
        cleanup.callback(stack.stop)
        stack.start(settings.VAR_DIR)
        bare_warm()
        spine.rest_load(stack.port, rest_token, threads=CLIENT_THREADS, n=200)
        spine.amqp_load(url, amqp_token, n=200, in_flight=IN_FLIGHT)
        n, serial_n = N // ROUNDS, SERIAL_N // ROUNDS
        loads = _in_rounds(
            bare=lambda: bare_load(threads=CLIENT_THREADS, n=n),
            rest=lambda: spine.rest_load(stack.port, rest_token, threads=CLIENT_THREADS, n=n),
            amqp=lambda: spine.amqp_load(url, amqp_token, n=n, in_flight=IN_FLIGHT),
        )
        serial = _in_rounds(
            bare=lambda: bare_serial(serial_n),
            rest=lambda: spine.rest_load(stack.port, rest_token, threads=1, n=serial_n),
            amqp=lambda: spine.amqp_load(url, amqp_token, n=serial_n, in_flight=1),
        )
        bare_completed = len({pk for r in loads["bare"] for pk in r["pks"]})
        bare_inserted = bare_rows()
        waiters = spine.many_waiters(stack, rest_token, clients=WAITERS, wait=10)

    load = {path: spine.combined(parts) for path, parts in loads.items()}
    one = {path: spine.combined(parts) for path, parts in serial.items()}
    bare, bare_one = load["bare"], one["bare"]
    with capsys.disabled():
        print(
            f"\n[bench] spine: {N} x analytics.cta.record, {CLIENT_THREADS} clients "
            f"({IN_FLIGHT} in flight over AMQP); latency one at a time ({SERIAL_N} calls); "
            f"workers {pool} x{concurrency}; {ROUNDS} rounds, the paths in turn"
        )
        print(f"[bench] {'path':14s} {'actions/s':>10s} {'ratio':>6s} {'rounds':>11s} "
              f"{'p50 ms':>7s} {'x bare':>7s} {'p95 ms':>7s}")  # fmt: skip
        for path, name in (
            ("bare", "bare Celery"),
            ("rest", "REST ?wait"),
            ("amqp", "AMQP ingress"),
        ):
            rate, p50 = load[path]["throughput"], one[path]["p50_ms"]
            rounds = [
                part["throughput"] / base["throughput"]
                for part, base in zip(loads[path], loads["bare"], strict=True)
            ]
            print(
                f"[bench] {name:14s} {rate:10.0f} {rate / bare['throughput']:6.2f} "
                f"{min(rounds):5.2f}-{max(rounds):4.2f} "
                f"{p50:7.1f} {p50 / bare_one['p50_ms']:7.2f} {one[path]['p95_ms']:7.1f}"
            )
        print(
            f"[bench] {waiters['clients']} REST clients waiting at once (?wait=10): "
            f"{waiters['answered']} answered in {waiters['elapsed_s']:.1f} s, p50 "
            f"{waiters['p50_ms'] or 0:.0f} ms, slowest {waiters['max_ms'] or 0:.0f} ms; "
            f"web process threads at most {waiters['peak_web_threads']}"
        )
    assert bare_completed == bare["count"] == N // ROUNDS * ROUNDS
    # Every bare call inserted its row once: the warm-up's, the load's and the serial ones.
    assert bare_inserted == WARM_CALLS + N // ROUNDS * ROUNDS + SERIAL_N // ROUNDS * ROUNDS
    for path in ("rest", "amqp"):
        answered = load[path]
        assert answered["errors"] == 0 and answered["count"] == N // ROUNDS * ROUNDS, answered[
            "first_error"
        ]
        assert one[path]["errors"] == 0, one[path]["first_error"]
    assert waiters["answered"] == WAITERS
