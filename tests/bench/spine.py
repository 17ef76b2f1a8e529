"""The spine benchmark's parts: a running Switchboard (web, user worker, user ingress, as
separate processes like `make run`) and the clients that measure it from outside.

Every client talks to the stack the way a real one does: HTTP/1.1 to the ASGI server,
plain JSON over AMQP with pika. Figures are end to end: sent -> final envelope received.
"""

import asyncio
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pika

ROOT = Path(__file__).resolve().parents[2]
ACTION = "analytics.cta.record"


def cta_envelope(surface: str = "bench-spine") -> dict:
    return {
        "api": "1",
        "id": str(uuid.uuid4()),
        "action": ACTION,
        "tenant": "acme",
        "payload": {"surface": surface, "cta_id": "signup", "event": "click"},
    }


def figures(latencies_s: list[float], elapsed_s: float) -> dict:
    """Throughput and percentiles (NaN when nothing was answered: the caller's assert on
    the count and first error says why)."""
    ordered = sorted(latencies_s) or [float("nan")]
    return {
        "count": len(latencies_s),
        "throughput": len(latencies_s) / elapsed_s if elapsed_s else 0.0,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000,
        "p99_ms": ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000,
        "latencies_s": latencies_s,
        "elapsed_s": elapsed_s,
    }


def combined(parts: list[dict]) -> dict:
    """Several measurements of one path (rounds) as one: every answer over all the time
    they took, percentiles over every latency; errors added up."""
    result = figures(
        [t for part in parts for t in part["latencies_s"]], sum(p["elapsed_s"] for p in parts)
    )
    errors = [p for p in parts if p.get("errors")]
    result["errors"] = sum(p.get("errors", 0) for p in parts)
    result["first_error"] = errors[0]["first_error"] if errors else None
    return result


# --- the stack -------------------------------------------------------------------------------
def configure(monkeypatch, configs: dict[str, dict[str, str]], name: str) -> None:
    """The environment the stack's processes read (config/settings/base.py) for one of
    `configs` (name: {variable: value}): its values set, every other config's unset."""
    for variable in {v for conf in configs.values() for v in conf}:
        if variable in configs[name]:
            monkeypatch.setenv(variable, configs[name][variable])
        else:
            monkeypatch.delenv(variable, raising=False)


@dataclass
class Stack:
    port: int = 8765
    web_workers: int = 1
    worker_pool: str = "threads"
    worker_concurrency: int = 8
    ingress_threads: int = 8
    procs: dict = field(default_factory=dict)

    def start(self, log_dir: Path) -> "Stack":
        env = {**os.environ}
        commands = {
            "web": [
                sys.executable, "-m", "uvicorn", "config.asgi:application",
                "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.web_workers), "--loop", "uvloop", "--http", "httptools",
                "--no-access-log", "--no-proxy-headers", "--backlog", "4096",
            ],
            "worker": [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--channel", "user",
                "--pool", self.worker_pool, "--concurrency", str(self.worker_concurrency),
                "-n", f"bench-user-{uuid.uuid4().hex[:6]}@%h", "--without-gossip",
                "--without-mingle", "--loglevel", "WARNING",
            ],
            "ingress": [
                sys.executable, "manage.py", "amqp_ingress", "--channel", "user",
                "--threads", str(self.ingress_threads),
            ],
        }  # fmt: skip
        for name, command in commands.items():
            log = open(log_dir / f"bench-{name}.log", "w")  # noqa: SIM115
            self.procs[name] = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"bench {name} exited with {proc.returncode}")
            try:
                status, body = self.get("/health")
                parts = body["parts"]
                if parts["worker.user"]["ok"] and parts["ingress.user"]["ok"]:
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise RuntimeError("the bench stack did not become healthy in 60 s")

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def get(self, path: str) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def threads_of(self, name: str) -> int:
        """Threads of a process and its children (uvicorn's workers), from /proc."""
        pids = [self.procs[name].pid]
        try:
            children = Path(f"/proc/{pids[0]}/task/{pids[0]}/children").read_text().split()
            pids += [int(p) for p in children]
        except OSError:
            pass
        return sum(len(os.listdir(f"/proc/{pid}/task")) for pid in pids)


# --- REST clients ----------------------------------------------------------------------------
def rest_call(
    conn: http.client.HTTPConnection,
    token: str,
    wait: float = 10,
    *,
    tenant: str = "acme",
    surface: str = "bench-spine",
) -> dict:
    conn.request(
        "POST",
        f"/api/v1/actions?wait={wait}",
        body=json.dumps(cta_envelope(surface) | {"tenant": tenant}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    return json.loads(response.read())


def rest_load(port: int, token: str, *, threads: int, n: int) -> dict:
    """`threads` clients, each on its own keep-alive connection, until n answers."""
    latencies: list[float] = []
    errors: list[dict] = []
    lock = threading.Lock()
    remaining = [n]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            t0 = time.perf_counter()
            env = rest_call(conn, token)
            took = time.perf_counter() - t0
            with lock:
                (latencies if env["status"] == "ok" else errors).append(
                    took if env["status"] == "ok" else env
                )
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=client) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    result = figures(latencies, time.perf_counter() - started)
    result["errors"] = len(errors)
    result["first_error"] = errors[0] if errors else None
    return result


async def _one_waiter(port: int, token: str, wait: float) -> tuple[bool, float]:
    body = json.dumps(cta_envelope()).encode()
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"POST /api/v1/actions?wait={wait} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        + body
    )
    await writer.drain()
    raw = await reader.read()
    writer.close()
    took = time.perf_counter() - t0
    head, _, payload = raw.partition(b"\r\n\r\n")
    try:
        ok = json.loads(payload).get("status") == "ok"
    except ValueError:
        ok = False
    return ok, took


def many_waiters(stack: Stack, token: str, *, clients: int, wait: float = 10) -> dict:
    """`clients` REST calls with ?wait in flight at once; the web's thread count meanwhile."""
    peak_threads = [0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak_threads[0] = max(peak_threads[0], stack.threads_of("web"))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()

    async def run():
        return await asyncio.gather(
            *(_one_waiter(stack.port, token, wait) for _ in range(clients)),
            return_exceptions=True,
        )

    started = time.perf_counter()
    try:
        results = asyncio.run(run())
    finally:
        done.set()
        watcher.join()
    elapsed = time.perf_counter() - started
    answered = [r for r in results if isinstance(r, tuple) and r[0]]
    return {
        "clients": clients,
        "answered": len(answered),
        "elapsed_s": elapsed,
        "p50_ms": statistics.median([r[1] for r in answered]) * 1000 if answered else None,
        "max_ms": max(r[1] for r in answered) * 1000 if answered else None,
        "peak_web_threads": peak_threads[0],
    }


# --- AMQP clients ----------------------------------------------------------------------------
def amqp_load(url: str, token: str, *, n: int, in_flight: int) -> dict:
    """Plain JSON over AMQP with pika: keep `in_flight` messages outstanding until n answers."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    reply_queue = "amq.rabbitmq.reply-to"  # direct reply-to: the only reply address
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    errors: list[dict] = []
    sent = [0]

    def send_one():
        env = cta_envelope()
        sent_at[env["id"]] = time.perf_counter()
        sent[0] += 1
        channel.basic_publish(
            "switchboard.ingress.user",
            ACTION,
            json.dumps(env),
            pika.BasicProperties(
                reply_to=reply_queue,
                correlation_id=env["id"],
                content_type="application/json",
                headers={"authorization": f"Bearer {token}"},
            ),
        )

    def on_reply(ch, method, properties, body):
        env = json.loads(body)
        took = time.perf_counter() - sent_at.pop(properties.correlation_id)
        (latencies if env["status"] == "ok" else errors).append(
            took if env["status"] == "ok" else env
        )
        if sent[0] < n:
            send_one()

    channel.basic_consume(reply_queue, on_reply, auto_ack=True)
    started = time.perf_counter()
    for _ in range(min(in_flight, n)):
        send_one()
    deadline = time.monotonic() + 120
    while len(latencies) + len(errors) < n and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.5)
    elapsed = time.perf_counter() - started
    connection.close()
    result = figures(latencies, elapsed)
    result["errors"] = len(errors)
    result["first_error"] = errors[0] if errors else None
    return result
