"""actions.edge.ingress.LateReplies: an answered repeat is answered once, whatever fails."""

import contextlib
import threading
import time

from actions.edge import ingress


def test_a_repeat_answered_before_a_failure_is_not_answered_again(monkeypatch):
    late = ingress.LateReplies()
    late.POLL_S, late.IDLE_S = 0.01, 0.05
    answered = []

    def answer(waiting, done):
        for w in waiting:
            if w["record_id"] == "a":
                answered.append("a")
                done.add(id(w))
        raise RuntimeError("the next tenant's schema could not be read")

    monkeypatch.setattr(late, "_answer", answer)
    monkeypatch.setattr(
        ingress.tenant_connections, "serving", lambda *a, **k: contextlib.nullcontext()
    )
    until = time.monotonic() + 0.3
    late._waiting = [{"record_id": "a", "until": until}, {"record_id": "b", "until": until}]
    late._thread = threading.Thread(target=late._run)
    late._thread.start()
    late._thread.join(timeout=5)
    assert not late._thread or not late._thread.is_alive()
    assert answered == ["a"]  # once, though every poll failed after it
    assert late._waiting == []  # b given up once its time was over
