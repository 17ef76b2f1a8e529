"""Benchmark of issue 12 over AMQP: one tenant floods the ingress, another keeps its latency.

Tenant `acme` publishes FLOOD actions (`analytics.cta.record`) to `switchboard.ingress.user`
at once, as a client that does not wait for answers would (no `reply_to`); meanwhile a
member of tenant `beta` sends the same action over AMQP one at a time and waits for each
answer, until the flood has run. The same stack as the spine benchmark (web, user worker
threads x8, user ingress threads x8; rate limits off, else they would refuse the flood),
once per configuration, in the same run:
- `no lanes`: INGRESS_TRIAGE_ABOVE 0, the ingress queue first in, first out;
- `default`: the shipped settings (lanes while more than 100 messages wait; the outbox's
  slots as in the REST benchmark; the ingress has no backpressure).
For each: beta's idle p50/p99 over AMQP (no flood), its p50/p99 under the flood and the
ratio, and acme's flood throughput (first publish to last action finished).

Prints every figure; asserts only that every action ran (`make bench`; the figures are in
docs/performance.md).
"""

import json
import threading
import time
import uuid

import pika
import pytest
from django.conf import settings

from tests.bench import spine
from tests.bench.test_fairness_bench import _cleanup, _events, _percentiles, _token

pytestmark = pytest.mark.bench
FLOOD, IDLE_N = 10_000, 200
CONFIGS = {"no lanes": {"SWITCHBOARD_INGRESS_TRIAGE_ABOVE": "0"}, "default": {}}
PORT = 8783


def _publish(channel, token: str, tenant: str, surface: str, reply: bool) -> str:
    env = spine.cta_envelope(surface)
    env["tenant"] = tenant
    properties = pika.BasicProperties(
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
        reply_to="amq.rabbitmq.reply-to" if reply else None,
        correlation_id=env["id"] if reply else None,
    )
    channel.basic_publish("switchboard.ingress.user", spine.ACTION, json.dumps(env), properties)
    return env["id"]


class Caller:
    """One AMQP client sending one action at a time and waiting for its answer."""

    def __init__(self, token: str):
        self.token = token
        self.connection = pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL_CLIENT))
        self.channel = self.connection.channel()
        self.answers: dict[str, dict] = {}
        self.channel.basic_consume("amq.rabbitmq.reply-to", self._on_answer, auto_ack=True)

    def _on_answer(self, _channel, _method, properties, body) -> None:
        self.answers[properties.correlation_id] = json.loads(body)

    def call(self, surface: str, timeout: float = 300) -> float:
        started = time.perf_counter()
        id_ = _publish(self.channel, self.token, "beta", surface, reply=True)
        deadline = time.monotonic() + timeout
        while id_ not in self.answers:
            assert time.monotonic() < deadline, "no answer in time"
            self.connection.process_data_events(time_limit=0.05)
        answer = self.answers.pop(id_)
        assert answer["status"] == "ok", answer
        return time.perf_counter() - started

    def close(self) -> None:
        self.connection.close()


def _flood(token: str, surface: str, published: threading.Event) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL_CLIENT))
    channel = connection.channel()
    for _ in range(FLOOD):
        _publish(channel, token, "acme", surface, reply=False)
    connection.close()
    published.set()


def _run(name: str, tag: str, monkeypatch, tokens) -> dict:
    spine.configure(monkeypatch, CONFIGS, name)  # read by the stack's processes
    stack = spine.Stack(port=PORT)
    stack.start(settings.VAR_DIR)
    caller = Caller(tokens["victim"])
    try:
        for _ in range(20):  # warm-up
            caller.call(f"bench-fair-idle-{tag}")
        idle = [caller.call(f"bench-fair-idle-{tag}") for _ in range(IDLE_N)]
        surface = f"bench-fair-flood-{tag}"
        published = threading.Event()
        started = time.perf_counter()
        flooder = threading.Thread(target=_flood, args=(tokens["flood"], surface, published))
        flooder.start()
        flooded: list[float] = []
        finished_at = None
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            flooded.append(caller.call(f"bench-fair-victim-{tag}"))
            if _events(surface) >= FLOOD:
                finished_at = time.perf_counter()
                break
        flooder.join()
        assert finished_at is not None, "the flood did not finish in 15 minutes"
    finally:
        caller.close()
        stack.stop()
    idle_p50, idle_p99 = _percentiles(idle)
    flood_p50, flood_p99 = _percentiles(flooded)
    return {
        "idle_p50": idle_p50,
        "idle_p99": idle_p99,
        "flood_p50": flood_p50,
        "flood_p99": flood_p99,
        "worst": max(flooded) * 1000,
        "n": len(flooded),
        "flood_per_s": FLOOD / (finished_at - started),
    }


@pytest.mark.timeout(3600)
def test_one_tenant_floods_the_ingress_another_keeps_its_latency(monkeypatch, capsys):
    from actions.edge import health

    assert not any(health.workers(timeout=0.5).values()), "other workers are running"
    monkeypatch.delenv("SWITCHBOARD_TEST_RATE_LIMITS", raising=False)
    tokens = {"flood": _token("owner@acme.test"), "victim": _token("member@beta.test")}
    run = uuid.uuid4().hex[:6]
    runs = {}
    try:
        for number, name in enumerate(CONFIGS):
            runs[name] = _run(name, f"amqp{number}-{run}", monkeypatch, tokens)
    finally:
        _cleanup()
    with capsys.disabled():
        print(
            f"\n[bench] fairness over AMQP: acme publishes {FLOOD} x analytics.cta.record to "
            f"the user ingress at once (no reply_to); beta sends one at a time over AMQP and "
            f"waits for each answer; idle = {IDLE_N} beta calls without the flood; ms"
        )
        print(
            f"[bench] {'ingress':10s} {'idle p50':>8s} {'idle p99':>8s} {'flood p50':>9s} "
            f"{'flood p99':>9s} {'p99 ratio':>9s} {'worst':>8s} {'n':>5s} {'flood/s':>7s}"
        )
        for name, r in runs.items():
            print(
                f"[bench] {name:10s} {r['idle_p50']:8.1f} {r['idle_p99']:8.1f} "
                f"{r['flood_p50']:9.1f} {r['flood_p99']:9.1f} "
                f"{r['flood_p99'] / r['idle_p99']:9.2f} {r['worst']:8.0f} {r['n']:5d} "
                f"{r['flood_per_s']:7.0f}"
            )
