"""Benchmarks start their own processes: the session's workers (tests/conftest.py) live
only as long as the benchmark module that asks for them, so that no worker or ingress of
another module consumes the spine benchmark's queues or shares its CPU."""

import pytest

from tests.conftest import run_workers


@pytest.fixture(scope="module")
def workers(django_db_blocker):
    yield from run_workers()


@pytest.fixture(autouse=True)
def _publishers_marked(_db_access):
    """A benchmark that submits in-process leaves the outbox's publisher thread marking
    what the broker confirmed, every 100 ms, and publishing what it held back for fair-
    scheduling slots as they free (once a later module's workers run): mark it all before
    the test's database access ends, since pytest-django refuses the thread's queries
    after it (a logged error), and forget the held-back records (they stay in their table,
    unpublished, for the sweep)."""
    yield
    from actions.delivery import outbox

    for publisher in list(outbox._publishers.values()):
        publisher.flush()
        publisher._backlog.clear()
        publisher._mark_confirmed()
