"""auth.forgot: the mail is a task after the commit."""

from django.core import mail

from tenants import tasks as tenant_tasks
from tests.tenancy import make_tenant, ok, run_inline


def test_forgot_queues_a_task_and_its_answer_does_not_depend_on_the_mail(monkeypatch):
    t = make_tenant("fg")
    user = t["member"]
    queued = []
    monkeypatch.setattr(
        tenant_tasks.password_reset_mail, "apply_async", lambda **kw: queued.append(kw)
    )

    def smtp_down(**kw):
        raise OSError("smtp: connection refused")

    monkeypatch.setattr("tenants.accounts.send_mail", smtp_down)
    mail.outbox.clear()
    unknown = run_inline(
        "auth.forgot", {"email": "nobody@tenancy.test"}, schema=t["slug"], user=None
    )
    known = run_inline("auth.forgot", {"email": user.email}, schema=t["slug"], user=None)
    assert ok(unknown) == ok(known) == {"accepted": True}  # SMTP down: still the same answer
    assert [q["kwargs"]["email"] for q in queued] == ["nobody@tenancy.test", user.email]
    assert {(q["queue"], q["routing_key"]) for q in queued} == {
        ("switchboard.maintenance", "maintenance.mail")
    }
    assert mail.outbox == []
    # The task sends the mail (run here, as the maintenance worker would).
    monkeypatch.undo()
    assert tenant_tasks.password_reset_mail(email="nobody@tenancy.test") is False
    assert tenant_tasks.password_reset_mail(email=user.email) is True
    assert [m.to for m in mail.outbox] == [[user.email]]
