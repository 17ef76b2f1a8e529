"""A database that accepts the connection and never answers (a host that drops packets
behaves alike) fails a connection attempt after settings' `connect_timeout`
(SWITCHBOARD_DB_CONNECT_TIMEOUT, 5 s) instead of hanging: libpq waits for ever by default,
and the edge's `unavailable` answer and a worker's bounded wait for the database
(actions.connections.database_back) depend on it."""

import socket
import threading
import time

from django.conf import settings
from django.db import OperationalError, connection


def test_a_silent_database_fails_the_connection_within_connect_timeout(monkeypatch):
    limit = settings.DATABASES["default"]["OPTIONS"]["connect_timeout"]
    with socket.socket() as silent:  # completes the TCP handshake, then says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        connection.close()
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", silent.getsockname()[1])
        outcome: list[BaseException | None] = []

        def connect() -> None:
            try:
                connection.ensure_connection()
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001  # what the attempt ended with
                outcome.append(exc)
            finally:
                connection.close()

        started = time.monotonic()
        attempt = threading.Thread(target=connect, daemon=True)
        attempt.start()
        attempt.join(timeout=limit * 3)
        took = time.monotonic() - started
    monkeypatch.undo()
    connection.close()
    assert outcome, f"the connection attempt still hung after {took:.1f} s"
    assert isinstance(outcome[0], OperationalError), outcome
    assert took < limit * 3
