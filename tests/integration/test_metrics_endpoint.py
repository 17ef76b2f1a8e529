"""GET /metrics: the monitoring figures in Prometheus' text format, for loopback scrapers or
holders of the metrics token."""

import pytest
from django.test import override_settings

from tests.admin_calls import cta

pytestmark = pytest.mark.usefixtures("workers")


def test_metrics_endpoint_serves_prometheus_text_to_loopback(client, api, tokens):
    cta(api, tokens, 1)
    response = client.get("/metrics")  # the test client is 127.0.0.1
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'switchboard_action_calls_per_minute{action="analytics.cta.record",channel="user"}' in (
        text
    )
    assert 'quantile="0.95"' in text
    assert 'switchboard_queue_messages{queue="switchboard.user.actions"}' in text
    assert 'switchboard_queue_consumers{queue="switchboard.admin.actions"} 1.0' in text
    assert 'switchboard_workers{channel="admin"} 1.0' in text


def test_metrics_endpoint_refuses_other_addresses_and_wants_the_token_when_set(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    with override_settings(METRICS_TOKEN="scrape-secret"):
        assert client.get("/metrics").status_code == 403  # loopback is not enough then
        wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
        assert wrong.status_code == 403
        ok = client.get(
            "/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer scrape-secret"
        )
        assert ok.status_code == 200 and b"switchboard_workers" in ok.content
    assert client.post("/metrics").status_code == 405
