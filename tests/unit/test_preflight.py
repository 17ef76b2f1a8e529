"""`make run` / `make test` name the service they cannot reach, where, and how to start it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("variable", "value", "service", "how"),
    [
        (
            "SWITCHBOARD_DB_PORT",
            "5999",
            "PostgreSQL cannot be reached at 127.0.0.1:5999",
            "pg_ctlcluster",
        ),
        (
            "SWITCHBOARD_BROKER_HOST",
            "127.0.0.1:5999",
            "RabbitMQ cannot be reached at 127.0.0.1:5999",
            "rabbitmq-server -detached",
        ),
    ],
)
def test_an_unreachable_service_is_named_with_where_and_how(variable, value, service, how):
    env = {**os.environ, variable: value, "DJANGO_SETTINGS_MODULE": "config.settings.local_test"}
    done = subprocess.run(
        [sys.executable, "deploy/preflight.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert service in done.stderr and how in done.stderr
