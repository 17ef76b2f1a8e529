"""A redelivered message runs alone in its worker process (actions.worker.executor): a
poison message that kills the process again then counts its own attempt only."""

import threading
import time

from actions.worker import executor


def _peak(monkeypatch, *, redelivered: bool) -> int:
    running, peak, lock = [0], [0], threading.Lock()

    def fake(*args):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return "ok"

    monkeypatch.setattr(executor, "_execute", fake)
    run = dict(channel="user", schema="acme", worker="w", redelivered=redelivered)
    threads = [
        threading.Thread(target=executor.execute, kwargs={**run, "record_id": str(i)})
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return peak[0]


def test_redelivered_messages_run_one_at_a_time(monkeypatch):
    assert _peak(monkeypatch, redelivered=True) == 1


def test_first_deliveries_run_side_by_side(monkeypatch):
    assert _peak(monkeypatch, redelivered=False) > 1
