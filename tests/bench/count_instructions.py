"""Instructions per action of one process of the stack, counted by valgrind's callgrind.

Not a test: a tool for profiling before optimising (docs/performance.md). This machine's
speed moves by tens of per cent from minute to minute, so CPU seconds per action cannot
show a change of a few per cent; callgrind counts the instructions a process executes,
which do not depend on how fast the machine is that minute. The figure is the web
process's (or the worker's) instructions per REST `?wait` action sent one at a time, its
threads included: counted between two dumps taken around the measured calls, so that
starting and stopping are not in it. Under callgrind the process runs about 50 times
slower; its periodic work (timers, heartbeats) then weighs a little more than it does at
full speed, alike in every run.

    DJANGO_SETTINGS_MODULE=config.settings.local_test \\
        .venv/bin/python -m tests.bench.count_instructions --kind web --n 200

`--kind bare` counts the spine benchmark's bare Celery worker per task alike.

Rate limits on (acme's raised), fair scheduling off (no worker's slot to wait for), as
one client sees the path. Compare two versions of the code by running this in each
checkout (git worktree), one after the other.
"""

import argparse
import contextlib
import glob
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]


def _totals(pattern: str) -> list[int]:
    """The `totals:` line of each callgrind dump, in the order they were written."""
    out = []
    for name in sorted(glob.glob(pattern), key=lambda f: int(f.rsplit(".", 1)[1])):
        for line in Path(name).read_text().splitlines():
            if line.startswith(("totals:", "summary:")):
                out.append(int(line.split()[1]))
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["web", "worker", "bare"], default="web")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--port", type=int, default=8793)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local_test")
    os.environ["SWITCHBOARD_TEST_RATE_LIMITS"] = "1"
    os.environ["SWITCHBOARD_INFLIGHT_CAP_USER"] = "0"
    django.setup()
    from tenants.models import Tenant, User
    from tenants.tokens import token_issue_pair
    from tests.bench import spine

    acme = Tenant.objects.get(schema_name="acme")
    saved = dict(acme.config)
    acme.config = {
        **saved,
        "rate_limits": {"per_tenant_per_minute": 100000, "per_actor_per_minute": 10000},
    }
    acme.save(update_fields=["config"])
    token = token_issue_pair(user=User.objects.get(email="member@acme.test"))["access_token"]
    out = Path(tempfile.mkdtemp(prefix="callgrind-"))
    if args.kind == "bare":
        try:
            _count_bare(out, args.n)
        finally:
            acme.config = saved
            acme.save(update_fields=["config"])
        return
    commands = {
        "web": [
            sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
            "--port", str(args.port), "--workers", "1", "--loop", "uvloop", "--http",
            "httptools", "--no-access-log", "--no-proxy-headers",
        ],
        "worker": [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--channel", "user",
            "--pool", "threads", "--concurrency", "8", "-n", f"count-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
        ],
    }  # fmt: skip
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            if name == args.kind:
                command = [
                    "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/{name}.%p",
                    f"--log-file={out}/{name}.log", *command,
                ]  # fmt: skip
            log = open(out / f"{name}.out", "w")  # noqa: SIM115
            procs[name] = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait_healthy(args.port, procs)
        spine.rest_load(args.port, token, threads=1, n=20)  # warm
        pid = procs[args.kind].pid
        subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True, check=True)
        result = spine.rest_load(args.port, token, threads=1, n=args.n)
        subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True, check=True)
        totals = _totals(f"{out}/{args.kind}.{pid}.*")
        if result["errors"] or len(totals) < 2:
            raise SystemExit(f"failed: {result['first_error']} {totals}")
        print(
            f"{args.kind}: {totals[-1] / args.n / 1e6:.3f} M instructions per action "
            f"({args.n} REST ?wait actions one at a time; dumps in {out})"
        )
    finally:
        for proc in procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        acme.config = saved
        acme.save(update_fields=["config"])


def _count_bare(out: Path, n: int) -> None:
    """The bare Celery worker's instructions per task (the spine benchmark's baseline:
    tests/bench/bare_app.py), its calls one at a time as the REST ones above."""
    from tests.bench.bare_app import app
    from tests.bench.bare_celery import _call, delete_bare_rows

    hostname = f"count-bare-{uuid.uuid4().hex[:6]}@%h"
    command = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/bare.%p",
        f"--log-file={out}/bare.log", sys.executable, "-m", "celery", "-A",
        "tests.bench.bare_app", "worker", "--pool", "threads", "--concurrency", "8", "-n",
        hostname, "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
    ]  # fmt: skip
    log = open(out / "bare.out", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 600
        node = hostname.replace("%h", socket.gethostname())
        while not app.control.ping(destination=[node], timeout=2):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the bare worker did not start")
        for i in range(20):  # warm
            _call(i)
        subprocess.run(["callgrind_control", "--dump", str(proc.pid)], capture_output=True)
        for i in range(n):
            _call(i)
        subprocess.run(["callgrind_control", "--dump", str(proc.pid)], capture_output=True)
        totals = _totals(f"{out}/bare.{proc.pid}.*")
        print(
            f"bare worker: {totals[-1] / n / 1e6:.3f} M instructions per task ({n} one at a time)"
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        delete_bare_rows()


def _wait_healthy(port: int, procs: dict) -> None:
    """Until the web answers /health with a live user worker (valgrind starts slowly)."""
    import http.client
    import json

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/health")
            if json.loads(conn.getresponse().read())["parts"]["worker.user"]["ok"]:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(2)
    raise SystemExit("the stack did not become healthy in 600 s")


if __name__ == "__main__":
    main()
