"""A worker that lost the database waits for it before requeueing its message (once it
answers, or after DATABASE_WAIT_S), instead of requeueing every second: a quorum queue
counts each requeue toward its `x-delivery-limit` and dead-letters the message past it
(measured on this machine's RabbitMQ 3.10: a message rejected with requeue three times
under a limit of 3 is dead-lettered at the fourth). `database_back` itself is tested
against the real database and against a port where none listens; a worker shutting down
stops waiting."""

import threading
import time
from types import SimpleNamespace

import pytest
from celery.exceptions import Reject
from django.db import OperationalError, connection

from actions import connections
from actions.worker import executor, tasks

TASK = SimpleNamespace(request=SimpleNamespace(hostname="w@test", delivery_info={}, action="x"))


@pytest.fixture
def lost(monkeypatch):
    """The executor meets a lost database (or broker); what the task then does is kept."""
    seen: dict = {"waited": [], "slept": []}

    def execute(**kwargs):
        raise seen["error"]

    monkeypatch.setattr(executor, "execute", execute)
    monkeypatch.setattr(tasks, "drop_connection", lambda: None)
    monkeypatch.setattr(tasks.time, "sleep", seen["slept"].append)

    def back(timeout, *, stop):
        assert stop is tasks.STOPPING
        seen["waited"].append(timeout)
        return seen["back"]

    monkeypatch.setattr(tasks, "database_back", back)
    return seen


def _requeued(seen) -> bool:
    with pytest.raises(Reject) as rejected:
        tasks._run(TASK, "user", "acme", "00000000-0000-0000-0000-000000000001", {"actor_id": 1})
    return rejected.value.requeue


def test_the_database_is_waited_for_then_the_message_requeued_at_once(lost):
    lost.update(error=OperationalError("server closed the connection unexpectedly"), back=True)
    assert _requeued(lost)
    assert lost["waited"] == [tasks.DATABASE_WAIT_S] and lost["slept"] == []


def test_a_database_still_away_after_the_wait_requeues_after_the_pause(lost):
    lost.update(error=OperationalError("connection refused"), back=False)
    assert _requeued(lost)
    assert lost["waited"] == [tasks.DATABASE_WAIT_S] and lost["slept"] == [tasks.REQUEUE_PAUSE_S]


def test_a_lost_broker_is_not_waited_for_here(lost):
    lost.update(error=ConnectionRefusedError(111, "refused"), back=True)
    assert _requeued(lost)
    assert lost["waited"] == [] and lost["slept"] == [tasks.REQUEUE_PAUSE_S]


def test_database_back_answers_at_once_when_the_database_does():
    assert connections.database_back(timeout=1)


@pytest.fixture
def no_database(monkeypatch):
    """This thread's connection points at a port where nothing listens, then back."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "PORT", port)
    yield
    monkeypatch.undo()
    connection.close()
    assert connections.database_back(timeout=1)  # the real one again


def test_database_back_gives_up_after_its_timeout_without_a_database(no_database):
    assert not connections.database_back(timeout=0.3, every=0.1)


def test_a_worker_shutting_down_requeues_without_the_pause(lost, monkeypatch):
    """A stop during an outage is not held up: the wait ends when the worker begins to shut
    down (Celery's worker_shutting_down), and the message goes back at once."""
    from celery.signals import worker_shutting_down

    monkeypatch.setattr(tasks, "STOPPING", threading.Event())
    worker_shutting_down.send(sender="w@test", sig="SIGTERM", how="Warm", exitcode=0)
    assert tasks.STOPPING.is_set()
    lost.update(error=OperationalError("connection refused"), back=False)
    assert _requeued(lost)
    assert lost["waited"] == [] and lost["slept"] == []  # no wait begins once stopping


def test_database_back_stops_waiting_when_told(no_database):
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert not connections.database_back(timeout=30, every=0.1, stop=stop)
    assert time.monotonic() - started < 5
