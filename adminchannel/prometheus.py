"""`GET /metrics`: the monitoring figures in Prometheus' text format (prometheus-client).

Computed at scrape time from the same functions as the admin actions
(adminchannel/monitoring.py): the action records of the last hour, the queues and the
workers. Nothing is counted in process memory, so every web process answers the same
whatever process ran the actions.

Protected (docs/operations.md, "Metrics"): with `SWITCHBOARD_METRICS_TOKEN` set, a scrape
must send `Authorization: Bearer <token>`; without it, only clients on the loopback
address are answered.
"""

import hmac
import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from adminchannel import monitoring

WINDOW_MINUTES = 60


class SwitchboardCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        figures = monitoring.action_metrics(minutes=WINDOW_MINUTES)
        calls = GaugeMetricFamily(
            "switchboard_action_calls_per_minute",
            f"Action messages stored per minute, averaged over the last {WINDOW_MINUTES} min.",
            labels=["action", "channel"],
        )
        errors = GaugeMetricFamily(
            "switchboard_action_errors_per_minute",
            f"Actions answered with an error per minute, over the last {WINDOW_MINUTES} min.",
            labels=["action", "channel"],
        )
        latency = GaugeMetricFamily(
            "switchboard_action_latency_milliseconds",
            f"Latency from acceptance to answer, by quantile, over the last {WINDOW_MINUTES} min.",
            labels=["action", "channel", "quantile"],
        )
        for row in figures["actions"]:
            labels = [row["action"], row["channel"]]
            calls.add_metric(labels, row["calls_per_min"])
            errors.add_metric(labels, row["errors_per_min"])
            for quantile, key in (("0.5", "p50_ms"), ("0.95", "p95_ms")):
                if row[key] is not None:
                    latency.add_metric([*labels, quantile], row[key])
        yield from (calls, errors, latency)

        depth = GaugeMetricFamily(
            "switchboard_queue_messages", "Messages ready in the queue.", labels=["queue"]
        )
        consumers = GaugeMetricFamily(
            "switchboard_queue_consumers", "Consumers of the queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "switchboard_queue_oldest_waiting_seconds",
            "Age of the oldest action record waiting for this queue's workers.",
            labels=["queue"],
        )
        for name, queue in monitoring.queue_inspect().items():
            if queue["messages"] is not None:
                depth.add_metric([name], queue["messages"])
                consumers.add_metric([name], queue["consumers"])
            if queue["oldest_waiting_s"] is not None or name.endswith(".actions"):
                oldest.add_metric([name], queue["oldest_waiting_s"] or 0.0)
        yield from (depth, consumers, oldest)

        workers = GaugeMetricFamily(
            "switchboard_workers", "Live workers serving the channel.", labels=["channel"]
        )
        live = monitoring.workers_live(timeout=0.5)
        for channel in ("user", "admin"):
            workers.add_metric([channel], sum(1 for w in live if w["channel"] == channel))
        yield workers


def allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET"})
    if not allowed(request):
        return HttpResponse(
            "metrics: send the metrics token (Authorization: Bearer) or scrape from loopback\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SwitchboardCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
