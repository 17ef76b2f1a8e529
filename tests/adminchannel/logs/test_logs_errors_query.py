"""logs.errors.query: the central error log, for developers."""

import json

import pytest

from tests.conftest import envelope
from tests.envelopes import query

pytestmark = pytest.mark.usefixtures("workers")


def test_a_developer_reads_the_central_error_log(api, tokens, client):
    refused = client.post(
        "/api/v1/actions",
        data=json.dumps(envelope("leads.list", tenant="beta")),
        content_type="application/json",
    ).json()
    body = query(
        api,
        tokens,
        "dev@switchboard.test",
        "logs.errors.query",
        {"tenant": "beta", "code": "unauthenticated", "source": "api"},
        tenant="platform",
    )
    assert body["status"] == "ok", body["error"]
    traces = [item["trace_id"] for item in body["result"]["items"]]
    assert refused["meta"]["trace_id"] in traces
    assert all(item["tenant"] == "beta" for item in body["result"]["items"])
