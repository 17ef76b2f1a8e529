"""Benchmarks start their own processes: the session's workers (tests/conftest.py) live
only as long as the benchmark module that asks for them, so that no worker or ingress of
another module consumes the spine benchmark's queues or shares its CPU."""

import pytest

from tests.conftest import run_workers


@pytest.fixture(scope="module")
def workers(django_db_blocker):
    yield from run_workers()
