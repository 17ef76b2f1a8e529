"""Benchmark: the bare reliable Celery baseline of issue 8, for each worker pool.

Prints the figures; asserts only that every task completed. Run: `make bench`.
"""

import pytest

from tests.bench.bare_celery import measure_bare, start_bare_worker, stop_bare_worker

pytestmark = pytest.mark.bench
THREADS, N, SERIAL_N = 8, 2000, 300


@pytest.mark.parametrize(("pool", "concurrency"), [("threads", 8), ("prefork", 2)])
def test_bare_celery_throughput_and_latency(pool, concurrency, capsys):
    proc = start_bare_worker(pool=pool, concurrency=concurrency)
    try:
        figures = measure_bare(threads=THREADS, n=N, serial_n=SERIAL_N)
    finally:
        stop_bare_worker(proc)

    with capsys.disabled():
        print(
            f"\n[bench] bare Celery, {pool} x{concurrency}, {THREADS} client threads: "
            f"{figures['throughput']:6.0f} tasks/s; one at a time: "
            f"p50 {figures['p50_ms']:5.1f} ms, p95 {figures['p95_ms']:5.1f} ms"
        )
    assert figures["completed"] == N
    assert figures["rows"] >= N + SERIAL_N  # plus the warm-up calls
    assert figures["throughput"] > 0
