"""system.health: every part of the platform, through the real gateway and workers."""

import pytest

from tests.conftest import envelope
from tests.envelopes import assert_envelope

pytestmark = pytest.mark.usefixtures("workers")


def test_system_health_is_a_real_action(api, tokens):
    health = assert_envelope(
        api(envelope("system.health"), token=tokens["member@acme.test"]).json()
    )
    assert health["status"] == "ok", health
    parts = health["result"]["parts"]
    assert set(parts) == {
        "database",
        "broker",
        "worker.user",
        "worker.admin",
        "ingress.user",
        "ingress.admin",
        "release",
    }
    assert (parts["release"]["ok"], parts["release"]["drift"]) == (True, [])  # local_test: all
    assert parts["ingress.user"]["consumers"] >= 1 and parts["ingress.admin"]["consumers"] >= 1
