"""GET /health under a flood: one report at a time, on a thread of its own, never the edge's."""

import asyncio
import threading
import time

from actions.edge import health, rest


def test_concurrent_requests_share_one_report_made_off_the_edge_threads(monkeypatch):
    made = []

    def slow_report():
        made.append(threading.current_thread().name)
        time.sleep(0.2)  # three broker connections, a worker probe
        return {"status": "ok", "n": len(made)}

    monkeypatch.setattr(health, "report", slow_report)

    async def flood():
        first = await asyncio.gather(*(rest._health_report() for _ in range(50)))
        later = await rest._health_report()  # after the first report: a new one
        return first, later

    first, later = asyncio.run(flood())
    assert [state["n"] for state in first] == [1] * 50
    assert later["n"] == 2
    assert len(made) == 2 and all(name.startswith("health") for name in made), made


def test_a_client_that_goes_away_does_not_cancel_the_report_others_wait_for(monkeypatch):
    release = threading.Event()

    def report():
        release.wait(5)
        return {"status": "ok"}

    monkeypatch.setattr(health, "report", report)

    async def one_leaves():
        leaving = asyncio.ensure_future(rest._health_report())
        staying = asyncio.ensure_future(rest._health_report())
        await asyncio.sleep(0.05)
        leaving.cancel()  # the client disconnected
        release.set()
        return await staying

    assert asyncio.run(one_leaves()) == {"status": "ok"}


def test_a_report_that_hangs_answers_degraded_in_time(monkeypatch):
    release = threading.Event()

    def hanging():
        release.wait(10)  # a broker that takes the connection and never answers
        return {"status": "ok"}

    monkeypatch.setattr(health, "report", hanging)
    monkeypatch.setattr(rest, "HEALTH_TIMEOUT_S", 0.2)
    try:
        started = time.monotonic()
        state = asyncio.run(rest._health_report())
        assert time.monotonic() - started < 2
        assert state["status"] == "degraded" and state["failing"] == ["health"]
    finally:
        release.set()  # the report's thread is the health pool's only one
    monkeypatch.setattr(health, "report", lambda: {"status": "ok"})
    assert asyncio.run(rest._health_report()) == {"status": "ok"}  # a new report, once done
