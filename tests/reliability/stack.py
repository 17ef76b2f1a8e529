"""The system under test for the fault tests: uvicorn (web), user-channel Celery workers
and beat, as separate processes like `make run`, pointed at the private PostgreSQL and
RabbitMQ (tests/reliability/services.py); and the clients that load it from outside and
the checks that count what became of every message."""

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from tests.bench.spine import cta_envelope

ROOT = Path(__file__).resolve().parents[2]
POISON = "poison-pill"  # a cta with this surface kills its worker (SWITCHBOARD_TEST_CRASH_ON)
RETRYABLE = {503}  # `unavailable`: send the same message again


def scale(default: int) -> int:
    """Sizes scale with SWITCHBOARD_FAULT_SCALE (1 by default; 2,000 kill-test actions at
    ~3.4): `SWITCHBOARD_FAULT_SCALE=3.4 make test PYTEST_ARGS=tests/reliability`."""
    return max(1, int(default * float(os.environ.get("SWITCHBOARD_FAULT_SCALE", "1"))))


def manage(env: dict, *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(
            f"manage.py {' '.join(args)}: {done.stdout[-1500:]}{done.stderr[-3000:]}"
        )
    return done.stdout


@dataclass
class Stack:
    env: dict
    log_dir: Path
    port: int
    workers: int = 2
    concurrency: int = 4
    procs: dict = field(default_factory=dict)
    restarts: int = 0
    _supervising: bool = False

    def start(self) -> "Stack":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._spawn(
            "web",
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--loop", "uvloop", "--http", "httptools",
             "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "2"],
        )  # fmt: skip
        self._spawn(
            "beat",
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING",
             "--schedule", str(self.log_dir / "celerybeat-schedule")],
        )  # fmt: skip
        for i in range(self.workers):
            self.start_worker(i)
        self._supervising = True
        threading.Thread(target=self._supervise, daemon=True).start()
        return self

    def worker_command(self, i: int) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--channel", "user",
            "--pool", "threads", "--concurrency", str(self.concurrency),
            "-n", f"faults-w{i}@%h", "--without-gossip", "--without-mingle",
            "--loglevel", "WARNING",
        ]  # fmt: skip

    def start_worker(self, i: int) -> None:
        self._spawn(f"worker{i}", self.worker_command(i))

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "a")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def _supervise(self) -> None:
        """Start a worker again when it died, as a process manager would."""
        while self._supervising:
            for name, proc in list(self.procs.items()):
                if name.startswith("worker") and proc.poll() is not None and self._supervising:
                    self.restarts += 1
                    self.start_worker(int(name.removeprefix("worker")))
            time.sleep(0.2)

    def kill_worker(self, i: int | None = None) -> int:
        """SIGKILL a worker process (a random one by default); the supervisor restarts it."""
        name = f"worker{random.randrange(self.workers) if i is None else i}"
        proc = self.procs[name]
        proc.kill()
        proc.wait(timeout=10)
        return proc.pid

    def stop(self) -> None:
        self._supervising = False
        time.sleep(0.3)
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    # --- clients -------------------------------------------------------------------------
    def post(self, env: dict, token: str, *, wait: float | None = None) -> tuple[int, dict]:
        path = "/api/v1/actions" + (f"?wait={wait}" if wait else "")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=(wait or 0) + 15)
        try:
            conn.request(
                "POST",
                path,
                body=json.dumps(env),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def probe(self, token: str, timeout: float = 60) -> float:
        """Seconds until one new action completes end to end (the channel serves)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                status, body = self.post(cta("probe"), token, wait=5)
                if status == 200 and body.get("status") == "ok":
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"no action completed within {timeout:.0f} s")


def cta(surface: str = "faults") -> dict:
    return cta_envelope(surface)


@dataclass
class Load:
    """Clients sending actions; each resends the same message (same id) while the answer
    is retryable (`unavailable`), as the message API tells clients to, up to `patience`."""

    stack: Stack
    token: str
    patience_s: float = 60.0
    answers: dict = field(default_factory=dict)  # id -> final HTTP status
    unclean: list = field(default_factory=list)  # (status, code): anything but 2xx/503
    retried: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_one(self, env: dict) -> None:
        deadline = time.monotonic() + self.patience_s
        while True:
            try:
                status, body = self.stack.post(env, self.token)
            except OSError:
                status, body = 0, {}  # the web process itself never stops in these tests
            if status in (200, 202) or (status not in RETRYABLE and status != 0):
                break
            if time.monotonic() > deadline:
                break
            with self._lock:
                self.retried += 1
            time.sleep(0.3)
        with self._lock:
            self.answers[env["id"]] = status
            if status not in (200, 202, *RETRYABLE):
                self.unclean.append((status, (body.get("error") or {}).get("code")))

    def run(self, count: int, *, threads: int = 6, during=None, surface: str = "faults") -> None:
        """Send at least `count` actions from `threads` clients, and go on sending while
        `during()` (the fault) runs alongside, so that the fault always meets load."""
        fault = threading.Thread(target=during, daemon=True) if during else None
        sent = 0
        sent_lock = threading.Lock()

        def client() -> None:
            nonlocal sent
            while True:
                with sent_lock:
                    if sent >= count and not (fault and fault.is_alive()):
                        return
                    sent += 1
                self.send_one(cta(surface))
                if sent >= count:  # past the minimum: a steady trickle while the fault lasts
                    time.sleep(0.5)

        if fault:
            fault.start()
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(client) for _ in range(threads)]:
                future.result()
        if fault:
            fault.join()

    @property
    def accepted(self) -> list[str]:
        return [i for i, s in self.answers.items() if s in (200, 202)]


class Ledger:
    """What the private database says became of each message."""

    def __init__(self, port: int, dbname: str):
        self.dsn = f"host=127.0.0.1 port={port} user=postgres dbname={dbname}"

    def _query(self, query: str | sql.Composable, params=()) -> list[tuple]:
        for attempt in range(20):  # the database may be restarting
            try:
                with psycopg.connect(self.dsn, connect_timeout=3) as conn:
                    return conn.execute(query, params).fetchall()
            except psycopg.OperationalError:
                if attempt == 19:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def records(self, ids: list[str]) -> dict[str, tuple]:
        rows = self._query(
            "SELECT id::text, status, attempts, error FROM acme.actions_actionrecord "
            "WHERE id = ANY(%s::uuid[])",
            (ids,),
        )
        return {r[0]: r[1:] for r in rows}

    def side_effects(self, ids: list[str]) -> dict[str, int]:
        rows = self._query(
            "SELECT message_id::text, count(*) FROM acme.actions_ctaevent "
            "WHERE message_id = ANY(%s::uuid[]) GROUP BY message_id",
            (ids,),
        )
        return dict(rows)

    def stored_like(self, ids: list[str]) -> list[str]:
        """New records copied from those of `ids` under new ids, `accepted` and never run,
        marked published (so that the sweep leaves them to their task messages); their ids."""
        columns = [
            name
            for (name,) in self._query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'acme' AND table_name = 'actions_actionrecord' ORDER BY ordinal_position"
            )
        ]
        fresh = {
            "id": "gen_random_uuid()", "status": "'accepted'", "result": "NULL",
            "error": "NULL", "reply_to": "'[]'::jsonb", "attempts": "0", "executed_by": "''",
            "created_at": "now()", "published_at": "now()", "started_at": "NULL",
            "finished_at": "NULL", "duration_ms": "NULL", "secrets_purged_at": "NULL",
        }  # fmt: skip
        copy = sql.SQL(
            "INSERT INTO acme.actions_actionrecord ({}) SELECT {} FROM acme.actions_actionrecord"
            " WHERE id = ANY(%s::uuid[]) RETURNING id::text"
        ).format(
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(
                sql.SQL(fresh[c]) if c in fresh else sql.Identifier(c) for c in columns
            ),
        )
        rows = self._query(copy, (ids,))
        return [id_ for (id_,) in rows]

    def wait_finished(self, ids: list[str], timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            records = self.records(ids)
            if all(records.get(i, ("",))[0] in ("ok", "error") for i in ids):
                return time.monotonic() - started
            time.sleep(0.5)
        return float("inf")


def tally(name: str, load: Load, ledger: Ledger, *, recovery_s: float, extra: str = "") -> dict:
    """Count what became of every message the clients sent; print the figures line."""
    sent = list(load.answers)
    records = ledger.records(sent)
    effects = ledger.side_effects(sent)
    accepted = set(load.accepted)
    # An id refused with `unavailable` may still have been stored (the store committed and
    # the answer was lost): then it must complete too.
    stored = set(records)
    finished = {i for i, r in records.items() if r[0] in ("ok", "error")}
    figures = {
        "sent": len(sent),
        "accepted": len(accepted),
        "refused_retryable": sum(1 for s in load.answers.values() if s in (*RETRYABLE, 0)),
        "unclean": len(load.unclean),
        "completed": sum(1 for i in stored if records[i][0] == "ok"),
        "ended_error": sum(1 for i in stored if records[i][0] == "error"),
        "lost": len((accepted | stored) - finished),
        "duplicated": sum(n - 1 for n in effects.values() if n > 1),
        "effect_without_ok": sum(1 for i in effects if records.get(i, ("",))[0] != "ok"),
        "ok_without_effect": sum(1 for i in stored if records[i][0] == "ok" and i not in effects),
        "client_retries": load.retried,
        "recovery_s": round(recovery_s, 1),
    }
    print(f"\n[reliability] {name}: " + " ".join(f"{k}={v}" for k, v in figures.items()) + extra)
    return figures
