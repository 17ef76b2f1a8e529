"""Benchmark of issue 12 (fairness): one tenant floods, another keeps its latency.

Tenant `acme` sends FLOOD actions (`analytics.cta.record`) as fast as FLOOD_CLIENTS REST
clients can (no `?wait`: each gets its 202 at once); meanwhile a member of tenant `beta`
sends the same action one at a time with `?wait` until the flood has run. The same stack
as the spine benchmark (web, user worker threads x8, user ingress; rate limits off, else
they would refuse the flood) runs twice in the same run:
- `no scheduling`: TENANT_INFLIGHT_CAP 0, every record published at once (FIFO);
- `fair (cap N)`: at most N of a tenant's actions published and unfinished.
For each: beta's idle p50/p99 (no flood), beta's p50/p99 under the flood and the ratio,
acme's flood throughput (first send to last action finished), and single-tenant REST
throughput (8 clients with `?wait`, as the spine benchmark), whose ratio between the two
stacks is the cost of the scheduling.

Prints every figure; asserts only that every action ran (`make bench`; the figures are in
docs/performance.md).
"""

import http.client
import json
import statistics
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from tenants.models import User
from tenants.tokens import token_issue_pair
from tests.bench import spine

pytestmark = pytest.mark.bench
FLOOD, FLOOD_CLIENTS, IDLE_N, REST_N = 10_000, 8, 200, 2000
CAPS = (4, 8)  # the last is the default (config/settings/base.py)
PORT = 8781  # not the spine benchmark's, in case both run on the machine


def _token(email: str) -> str:
    return token_issue_pair(user=User.objects.get(email=email))["access_token"]


def _post(conn, token: str, tenant: str, surface: str, wait: float | None) -> dict:
    env = spine.cta_envelope(surface)
    env["tenant"] = tenant
    conn.request(
        "POST",
        "/api/v1/actions" + (f"?wait={wait}" if wait is not None else ""),
        body=json.dumps(env),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    return json.loads(response.read())


def _call(conn, token: str, tenant: str, surface: str) -> float:
    """One action with ?wait, until its final envelope (polled if `wait` ran out)."""
    t0 = time.perf_counter()
    env = _post(conn, token, tenant, surface, wait=30)
    while env["status"] == "pending":
        time.sleep(0.05)
        conn.request(
            "GET", f"/api/v1/actions/{env['id']}", headers={"Authorization": f"Bearer {token}"}
        )
        env = json.loads(conn.getresponse().read())
    assert env["status"] == "ok", env
    return time.perf_counter() - t0


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(round(len(ordered) * 0.99)) - 1)]
    return statistics.median(ordered) * 1000, p99 * 1000


def _events(surface: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM acme.actions_ctaevent WHERE surface = %s", [surface])
        return cursor.fetchone()[0]


def _queue_wait_ms(tag: str) -> list[float]:
    """For beta's calls under the flood: from the record's INSERT to the worker's claim."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM started_at - created_at) * 1000 "
            "FROM beta.actions_actionrecord WHERE payload->>'surface' = %s",
            [f"bench-fair-victim-{tag}"],
        )
        return [float(row[0]) for row in cursor.fetchall()]


def _flood_and_measure(port: int, flood_token: str, victim_token: str, tag: str) -> dict:
    surface = f"bench-fair-flood-{tag}"
    sent = [0]
    lock = threading.Lock()
    errors: list[dict] = []

    def flooder():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if sent[0] >= FLOOD:
                    break
                sent[0] += 1
            env = _post(conn, flood_token, "acme", surface, wait=None)
            if env["status"] != "pending":
                errors.append(env)
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=flooder) for _ in range(FLOOD_CLIENTS)]
    for t in pool:
        t.start()
    sending: list[float] = []  # beta's calls while acme's clients were still sending
    draining: list[float] = []  # beta's calls after: acme's backlog ran on the workers
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    finished_at = sent_at = None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        still_sending = any(t.is_alive() for t in pool)
        if not still_sending and sent_at is None:
            sent_at = time.perf_counter()
        took = _call(conn, victim_token, "beta", f"bench-fair-victim-{tag}")
        (sending if still_sending else draining).append(took)
        if _events(surface) >= FLOOD:
            finished_at = time.perf_counter()
            break
    conn.close()
    for t in pool:
        t.join()
    while finished_at is None and time.monotonic() < deadline:
        if _events(surface) >= FLOOD:
            finished_at = time.perf_counter()
        time.sleep(0.1)
    assert not errors, errors[0]
    assert finished_at is not None, "the flood did not finish in 15 minutes"
    result = {
        "flood_per_s": FLOOD / (finished_at - started),
        "flood_s": finished_at - started,
        "sent_s": (sent_at or finished_at) - started,
        "victim_n": len(sending) + len(draining),
        "sending_n": len(sending),
        "draining_n": len(draining),
        "queue_p50": statistics.median(_queue_wait_ms(tag)),
    }
    result["victim_p50"], result["victim_p99"] = _percentiles(sending + draining)
    for name, part in (("sending", sending), ("draining", draining)):
        result[f"{name}_p50"], result[f"{name}_p99"] = _percentiles(part) if part else (0, 0)
    return result


def _run(cap: int, tag: str, monkeypatch, tokens, *, flood: bool = True) -> dict:
    monkeypatch.setenv("SWITCHBOARD_INFLIGHT_CAP_USER", str(cap))  # read by the stack
    stack = spine.Stack(port=PORT)
    stack.start(settings.VAR_DIR)
    try:
        spine.rest_load(stack.port, tokens["rest"], threads=8, n=200)  # warm-up
        rest = spine.rest_load(stack.port, tokens["rest"], threads=8, n=REST_N)
        assert rest["errors"] == 0 and rest["count"] == REST_N, rest["first_error"]
        if not flood:
            return {"rest": rest["throughput"]}
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
        idle = [
            _call(conn, tokens["victim"], "beta", f"bench-fair-idle-{tag}") for _ in range(IDLE_N)
        ]
        conn.close()
        flooded = _flood_and_measure(stack.port, tokens["flood"], tokens["victim"], tag)
    finally:
        stack.stop()
    idle_p50, idle_p99 = _percentiles(idle)
    return {"rest": rest["throughput"], "idle_p50": idle_p50, "idle_p99": idle_p99, **flooded}


def _rates(run: dict) -> str:
    """A stack's single-tenant REST rate, and its second measurement when it has one."""
    return " and ".join(f"{run[k]:.0f}" for k in ("rest", "rest2") if k in run)


def _cleanup() -> None:
    from psycopg import sql

    with connection.cursor() as cursor:
        for schema in ("acme", "beta"):
            cursor.execute(
                sql.SQL("DELETE FROM {}.actions_ctaevent WHERE surface LIKE 'bench-%%'").format(
                    sql.Identifier(schema)
                )
            )
            cursor.execute(
                sql.SQL(
                    "DELETE FROM {}.actions_actionrecord WHERE action = 'analytics.cta.record' "
                    "AND payload->>'surface' LIKE 'bench-%%'"
                ).format(sql.Identifier(schema))
            )


@pytest.mark.timeout(3600)
def test_one_tenant_floods_another_keeps_its_latency(monkeypatch, capsys):
    from actions.edge import health

    assert not any(health.workers(timeout=0.5).values()), "other workers are running"
    monkeypatch.delenv("SWITCHBOARD_TEST_RATE_LIMITS", raising=False)
    tokens = {
        "rest": _token("member@acme.test"),
        "flood": _token("owner@acme.test"),
        "victim": _token("member@beta.test"),
    }
    run = uuid.uuid4().hex[:6]
    runs: dict[str, dict] = {}
    try:
        for cap in (0, *CAPS):
            runs[f"{cap}"] = _run(cap, f"{cap}-{run}", monkeypatch, tokens)
        # Single-tenant throughput again, in the other order: the machine drifts.
        for cap in (CAPS[-1], 0):
            runs[f"{cap}"]["rest2"] = _run(cap, "", monkeypatch, tokens, flood=False)["rest"]
    finally:
        _cleanup()

    fifo = runs["0"]
    with capsys.disabled():
        print(
            f"\n[bench] fairness: acme floods {FLOOD} x analytics.cta.record from "
            f"{FLOOD_CLIENTS} REST clients (no wait); beta sends one at a time with ?wait "
            f"meanwhile; worker threads x8; idle = {IDLE_N} beta calls without the flood; "
            f"ms; the machine is shared"
        )
        print(
            f"[bench] {'scheduling':14s} {'idle p50':>8s} {'idle p99':>8s} {'flood p50':>9s} "
            f"{'flood p99':>9s} {'p99 ratio':>9s} {'n':>4s} | {'sending p50/p99':>16s} "
            f"{'draining p50/p99':>17s} {'queued p50':>10s} | {'flood/s':>7s} {'sent in':>7s}"
        )
        for cap in (0, *CAPS):
            r = runs[f"{cap}"]
            name = f"fair, cap {cap}" if cap else "none (FIFO)"
            print(
                f"[bench] {name:14s} {r['idle_p50']:8.1f} {r['idle_p99']:8.1f} "
                f"{r['victim_p50']:9.1f} {r['victim_p99']:9.1f} "
                f"{r['victim_p99'] / r['idle_p99']:9.2f} {r['victim_n']:4d} | "
                f"{r['sending_p50']:7.0f}/{r['sending_p99']:<6.0f} n{r['sending_n']:<3d}"
                f"{r['draining_p50']:7.0f}/{r['draining_p99']:<6.0f} n{r['draining_n']:<3d}"
                f"{r['queue_p50']:10.1f} | {r['flood_per_s']:7.0f} {r['sent_s']:6.1f}s"
            )
        for cap in CAPS:
            r = runs[f"{cap}"]
            both = (r["rest"] + r.get("rest2", r["rest"])) / (
                fifo["rest"] + fifo.get("rest2", fifo["rest"])
            )
            print(
                f"[bench] cap {cap} / none: flood throughput "
                f"{r['flood_per_s'] / fifo['flood_per_s']:.2f}; single-tenant REST "
                f"(8 clients, ?wait, {REST_N} actions) {_rates(r)}/s against "
                f"{_rates(fifo)}/s: {both:.2f}"
            )
