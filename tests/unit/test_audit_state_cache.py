"""dashboard.summary's chain state: checked at most once a minute per process."""

from types import SimpleNamespace

from adminchannel import summaries


def test_the_chain_is_checked_once_per_ttl_not_per_dashboard_call(monkeypatch):
    calls = []

    def verify():
        calls.append(1)
        return SimpleNamespace(ok=True, checked=len(calls), first_bad_seq=None, problem="")

    monkeypatch.setattr(summaries, "audit_verify", verify)
    monkeypatch.setattr(summaries, "_audit_state", None)
    clock = [1000.0]
    monkeypatch.setattr(summaries, "_clock", lambda: clock[0])
    states = [summaries.audit_chain_state_recent() for _ in range(20)]
    assert len(calls) == 1 and all(state["checked"] == 1 for state in states)
    clock[0] += summaries.AUDIT_STATE_TTL_S + 1
    assert summaries.audit_chain_state_recent()["checked"] == 2
    states[0]["ok"] = False  # a caller's copy: the cached verdict is not changed by it
    assert summaries.audit_chain_state_recent()["ok"] is True


def test_audit_admin_verify_checks_afresh_every_time(monkeypatch):
    calls = []

    def verify():
        calls.append(1)
        return SimpleNamespace(ok=True, checked=len(calls), first_bad_seq=None, problem="")

    monkeypatch.setattr(summaries, "audit_verify", verify)
    assert [summaries.audit_chain_state()["checked"] for _ in range(3)] == [1, 2, 3]
