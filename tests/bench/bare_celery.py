"""Start, measure and stop the bare Celery baseline (tests/bench/bare_app.py).

The figures are what a client sees: `apply_async(...).get()` round trips, publish with a
confirm, the worker's insert, the rpc reply. They are the yardstick of issue 8.
"""

import itertools
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django_tenants.utils import schema_context

from actions.models import CtaEvent
from tests.bench.bare_app import SURFACE, app, cta_insert
from tests.bench.spine import figures

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 10  # seconds a single call may take before the benchmark fails


def _hostname(pool: str) -> str:
    return f"bench-bare-{pool}@{socket.gethostname()}"


def start_bare_worker(*, pool: str, concurrency: int) -> subprocess.Popen:
    """Start a bare worker and return once it answers a ping (at most 60 s)."""
    log_dir = Path(settings.VAR_DIR)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"bench-bare-{pool}.log"
    hostname = _hostname(pool)
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.bench.bare_app",
                "worker",
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "-n",
                hostname,
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ},  # DJANGO_SETTINGS_MODULE and the rest, as the caller has them
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bare {pool} worker exited; see {log_path}")
        if app.control.ping(destination=[hostname], timeout=0.5):
            return proc
    stop_bare_worker(proc)
    raise RuntimeError(f"bare {pool} worker did not answer a ping in 60 s; see {log_path}")


def stop_bare_worker(proc: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM), killed if it takes more than 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _call(i: int) -> int:
    return cta_insert.apply_async((SURFACE, f"cta-{i}")).get(timeout=TIMEOUT)


WARM_CALLS = 20


def bare_warm() -> None:
    """Warm-up: connections, the worker's database connections, caches."""
    for i in range(WARM_CALLS):
        _call(i)


def bare_load(*, threads: int, n: int) -> dict:
    """`threads` clients until n calls: spine.figures (seconds) and `pks`, the results."""
    counter = itertools.count()  # next() on it is atomic under the GIL
    pks: list[int] = []
    latencies: list[float] = []

    def client() -> None:
        try:
            while (i := next(counter)) < n:
                t0 = time.perf_counter()
                pks.append(_call(i))
                latencies.append(time.perf_counter() - t0)
        finally:
            # Celery names a thread's rpc reply queue after its thread id, which
            # Python reuses: a later thread would share the queue with this one's
            # still-open consumer and lose its replies to it. Close it now.
            app.backend.result_consumer.stop()

    # Each thread's first call also declares its reply queue: a few ms a round.
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(client) for _ in range(threads)]:
            future.result()  # re-raises a client's failure
    result = figures(latencies, time.perf_counter() - started)
    result["pks"] = pks
    return result


def bare_serial(n: int) -> dict:
    """n calls one at a time: spine.figures."""
    latencies = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        _call(i)
        latencies.append(time.perf_counter() - t0)
    return figures(latencies, time.perf_counter() - started)


def bare_rows() -> int:
    """CtaEvent rows the bare task inserted (warm-ups included)."""
    with schema_context("acme"):
        return CtaEvent.objects.filter(surface=SURFACE).count()


def delete_bare_rows() -> int:
    with schema_context("acme"):
        return CtaEvent.objects.filter(surface=SURFACE).delete()[0]


def measure_bare(*, threads: int = 8, n: int = 2000, serial_n: int = 300) -> dict:
    """Throughput with `threads` clients (n calls in all) and latency one call at a time.

    Returns throughput (tasks/s), p50_ms, p95_ms, completed (distinct results of the
    threaded calls) and rows (CtaEvent rows the whole run inserted, warm-ups included).
    """
    delete_bare_rows()  # leftovers of an interrupted run would inflate `rows`
    try:
        bare_warm()
        load = bare_load(threads=threads, n=n)
        serial = bare_serial(serial_n)
        return {
            "throughput": load["throughput"],
            "p50_ms": serial["p50_ms"],
            "p95_ms": serial["p95_ms"],
            "completed": len(set(load["pks"])),
            "rows": bare_rows(),
        }
    finally:
        delete_bare_rows()
