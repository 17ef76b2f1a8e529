"""Where the spine's CPU goes: CPU time per action of every process on the path.

Not a test: a tool for profiling before optimising (docs/performance.md, "Where the time
went"). Starts the bench stack (tests/bench/spine.py) and, with `--bare`, the bare Celery
worker too, sends N actions from 8 clients and prints, per process kind, the CPU it spent
per action (from /proc/<pid>/stat, so every thread and child counts), then the same for
the bare task in the same run. With `--py-spy DIR` it also records flame graphs of the web
process and the worker during the REST load (py-spy must be on PATH).

    DJANGO_SETTINGS_MODULE=config.settings.local_test \\
        .venv/bin/python -m tests.bench.profile_spine --n 1000 --bare
"""

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

import django

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process, its threads and its waited-for children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICK


def _pids_named(*names: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm in names:
                pids.append(int(entry.name))
    return pids


def _children(pid: int) -> list[int]:
    out = [pid]
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            out += _children(int(child))
    except OSError:
        pass
    return out


class CpuMeter:
    """CPU seconds per process kind between `start` and `stop`."""

    def __init__(self, kinds: dict[str, list[int]]):
        self.kinds = kinds
        self.before: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        shared = {
            "postgres": _pids_named("postgres"),
            "rabbitmq": _pids_named("beam.smp", "erl_child_setup"),
            "redis": _pids_named("redis-server"),
        }
        kinds = {**self.kinds, **shared}
        out = {kind: sum(_cpu_of(p) for p in pids) for kind, pids in kinds.items()}
        out["client (this process)"] = sum(os.times()[:2])
        return out

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> dict[str, float]:
        after = self._read()
        return {k: after[k] - self.before.get(k, 0.0) for k in after}


def _print(title: str, spent: dict[str, float], n: int, elapsed: float) -> None:
    total = sum(spent.values())
    print(f"\n{title}: {n} actions in {elapsed:.2f} s = {n / elapsed:.0f}/s")
    for kind, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:24s} {seconds * 1000 / n:6.2f} ms/action")
    print(f"  {'total':24s} {total * 1000 / n:6.2f} ms/action")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pool", default="threads")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bare", action="store_true", help="measure bare Celery too")
    parser.add_argument("--amqp", action="store_true", help="measure the AMQP ingress too")
    parser.add_argument("--py-spy", dest="pyspy", default="", help="flame graphs into DIR")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local_test")
    django.setup()
    from django.conf import settings

    from tenants.models import User
    from tenants.tokens import token_issue_pair
    from tests.bench import spine

    token = token_issue_pair(user=User.objects.get(email="member@acme.test"))["access_token"]
    owner = token_issue_pair(user=User.objects.get(email="owner@acme.test"))["access_token"]

    if args.bare:
        from tests.bench.bare_celery import measure_bare, start_bare_worker, stop_bare_worker

        bare_worker = start_bare_worker(pool=args.pool, concurrency=args.concurrency)
        try:
            meter = CpuMeter({"bare worker": _children(bare_worker.pid)})
            meter.start()
            t0 = time.perf_counter()
            measure_bare(threads=args.threads, n=args.n, serial_n=2)
            elapsed = time.perf_counter() - t0
            _print("bare Celery", meter.stop(), args.n, elapsed)
        finally:
            stop_bare_worker(bare_worker)

    stack = spine.Stack(worker_pool=args.pool, worker_concurrency=args.concurrency)
    stack.start(settings.VAR_DIR)
    try:
        spine.rest_load(stack.port, token, threads=args.threads, n=200)  # warm-up
        kinds = {name: _children(proc.pid) for name, proc in stack.procs.items()}
        spies = []
        if args.pyspy:
            out = Path(args.pyspy)
            out.mkdir(parents=True, exist_ok=True)
            for name in ("web", "worker"):
                spies.append(
                    subprocess.Popen(
                        [shutil.which("py-spy") or "py-spy", "record", "--gil", "-r", "200",
                         "-p", str(stack.procs[name].pid), "-s", "-o", str(out / f"{name}.txt"),
                         "-f", "raw", "--nonblocking"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )
                )  # fmt: skip
            time.sleep(1)
        meter = CpuMeter(kinds)
        meter.start()
        t0 = time.perf_counter()
        rest = spine.rest_load(stack.port, token, threads=args.threads, n=args.n)
        elapsed = time.perf_counter() - t0
        spent = meter.stop()
        for spy in spies:
            spy.send_signal(2)
            spy.wait(timeout=30)
        _print("Switchboard REST ?wait", spent, args.n, elapsed)
        print(f"  errors {rest['errors']} {rest['first_error'] or ''}")
        if args.amqp:
            meter.start()
            t0 = time.perf_counter()
            amqp = spine.amqp_load(settings.BROKER_URL_CLIENT, owner, n=args.n, in_flight=8)
            elapsed = time.perf_counter() - t0
            _print("Switchboard AMQP ingress", meter.stop(), args.n, elapsed)
            print(f"  errors {amqp['errors']} {amqp['first_error'] or ''}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
