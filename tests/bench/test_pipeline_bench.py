"""Benchmark: the action pipeline against the real services, with a baseline measured in
the same run (a raw publish with a publisher confirm per message). Run: `make bench`."""

import json
import statistics
import time

import pytest
from django.conf import settings
from django_tenants.utils import schema_context
from kombu import Connection, Exchange, Queue

from actions.contract.registry import Channel
from actions.edge.pipeline import Ingress, submit
from actions.models import ActionRecord
from tests.conftest import envelope

pytestmark = [pytest.mark.bench, pytest.mark.usefixtures("workers")]
N = 300


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def baseline_confirmed_publish(n: int) -> float:
    """Messages/s for kombu publishes with a confirm each: the floor of any reliable path."""
    exchange = Exchange("switchboard.bench", type="direct", durable=False, auto_delete=True)
    queue = Queue("switchboard.bench", exchange, routing_key="bench", auto_delete=True)
    with Connection(settings.BROKER_URL_USER, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        body = json.dumps(envelope("leads.list"))
        producer.publish(body, exchange=exchange, routing_key="bench", declare=[queue])
        started = time.perf_counter()
        for _ in range(n):
            producer.publish(
                body,
                exchange=exchange,
                routing_key="bench",
                delivery_mode=2,
                content_type="application/json",
            )
        elapsed = time.perf_counter() - started
        queue(conn.default_channel).delete()
    return _rate(n, elapsed)


def test_pipeline_throughput_and_latency(tokens, capsys):
    token = f"Bearer {tokens['member@acme.test']}"
    baseline = baseline_confirmed_publish(N)

    ids, accept_times = [], []
    started = time.perf_counter()
    for _ in range(N):
        env = envelope("leads.list", {})
        t0 = time.perf_counter()
        outcome = submit(Ingress(channel=Channel.USER, body=env, authorization=token))
        accept_times.append(time.perf_counter() - t0)
        assert outcome.envelope["status"] == "pending"
        ids.append(env["id"])
    accept_elapsed = time.perf_counter() - started

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with schema_context("acme"):
            done = ActionRecord.objects.filter(id__in=ids, finished_at__isnull=False).count()
        if done == N:
            break
        time.sleep(0.05)
    total_elapsed = time.perf_counter() - started
    assert done == N
    with schema_context("acme"):
        records = list(ActionRecord.objects.filter(id__in=ids))
    latencies = sorted((r.finished_at - r.created_at).total_seconds() * 1000 for r in records)

    accept_rate = _rate(N, accept_elapsed)
    end_to_end = _rate(N, total_elapsed)
    with capsys.disabled():
        print(f"\n[bench] baseline: confirmed publish           {baseline:8.0f} msg/s")
        print(
            f"[bench] submit() (auth, validate, store, publish) {accept_rate:8.0f} msg/s "
            f"= {accept_rate / baseline:.2f} x baseline; "
            f"p50 {statistics.median(accept_times) * 1000:.1f} ms"
        )
        print(
            f"[bench] end to end ({N} actions, 1 user worker) {end_to_end:8.0f} actions/s "
            f"= {end_to_end / baseline:.2f} x baseline; stored->finished p50 "
            f"{latencies[len(latencies) // 2]:.1f} ms, p95 {latencies[int(N * 0.95)]:.1f} ms"
        )
