"""Review and outside-test findings on tenancy, auth and audit, each pinned by a test:
super-admin actions marked in the audit log (both channels), no audit rows for anonymous
refusals, the actor in the central error log, consent-based invitations, atomic sign-in
throttling (actions and the Django admin site). The reset mail after the commit is
tests/actions/auth/test_auth_forgot.py."""

import json
import threading
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from actions.contract.registry import Channel
from actions.edge import pipeline
from audit import files as audit
from audit.models import AdminAuditEntry
from tenants.accounts import LOGIN_FAILURE_LIMIT, user_login
from tenants.errors import TenancyError
from tenants.models import Invitation, LoginFailure, Membership, User
from tests.tenancy import PASSWORD, bearer, make_tenant, make_user, run_inline, submit


def ok(record):
    assert record.status == "ok", record.error
    return record.result


def code(record):
    assert record.status == "error", record.result
    return record.error["code"]


def _entries_since(seq: int, *, tenant=None, actor=None, outcome=None):
    entries = AdminAuditEntry.objects.filter(seq__gt=seq).order_by("seq")
    if tenant is not None:
        entries = entries.filter(tenant=tenant)
    if actor is not None:
        entries = entries.filter(actor=actor)
    if outcome is not None:
        entries = entries.filter(outcome=outcome)
    return list(entries)


def _last_seq() -> int:
    last = AdminAuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


# --- 1. super-admin actions are marked, on both channels ---------------------------------


def test_super_admin_actions_are_audited_as_such_on_both_channels():
    t = make_tenant("sa")
    slug = t["slug"]
    dev = make_user(f"dev.{slug}@tenancy.test", developer=True)
    reason = "ticket 4711: look at the config"
    grant = ok(run_inline("superadmin.promote", {"reason": reason}, schema=slug, user=dev))
    start = _last_seq()
    for action in ("tenants.config.get", "tenants.owners.list", "audit.admin.query"):
        ok(run_inline(action, {}, schema=slug, user=dev))
    ok(run_inline("auth.me", {}, schema=slug, user=dev))  # user channel
    # The owner's own action on the same tenant is not a super-admin one.
    ok(run_inline("tenants.config.get", {}, schema=slug, user=t["owner"]))

    entries = _entries_since(start, tenant=slug)
    mine = [e for e in entries if e.actor == dev.email]
    assert [e.action for e in mine] == [
        "tenants.config.get",
        "tenants.owners.list",
        "audit.admin.query",
        "auth.me",
    ]
    for entry in mine:
        assert entry.as_super_admin is True and entry.actor_role == "super_admin"
        assert entry.grant_id == grant["id"] and entry.reason == reason
        assert entry.outcome == "ok" and isinstance(entry.payload_summary, dict)
    assert mine[-1].channel == "user"
    (owners,) = [e for e in entries if e.actor == t["owner"].email]
    assert owners.as_super_admin is False and owners.grant_id == ""

    # audit.admin.query shows the marking and its filter finds these actions.
    found = ok(
        run_inline(
            "audit.admin.query", {"super_admin_only": True, "limit": 50}, schema=slug, user=dev
        )
    )
    actions = {i["action"] for i in found["items"]}
    assert {"tenants.config.get", "tenants.owners.list", "audit.admin.query", "auth.me"} <= actions
    assert all(i["as_super_admin"] for i in found["items"])
    assert any(i["grant_id"] == grant["id"] for i in found["items"])


def test_a_member_of_the_tenant_acting_as_member_is_not_marked_super_admin():
    t = make_tenant("sa")
    slug = t["slug"]
    dev = make_user(f"devm.{slug}@tenancy.test", developer=True)
    Membership.objects.create(user=dev, tenant=t["tenant"], role="member")
    ok(run_inline("superadmin.promote", {"reason": "ticket 4712: members"}, schema=slug, user=dev))
    start = _last_seq()
    ok(run_inline("auth.me", {}, schema=slug, user=dev))  # the membership is enough
    ok(run_inline("tenants.config.get", {}, schema=slug, user=dev))  # needs the grant
    entries = {e.action: e for e in _entries_since(start, tenant=slug, actor=dev.email)}
    assert "auth.me" not in entries  # a user-channel action not taken as super admin
    assert entries["tenants.config.get"].as_super_admin is True


# --- 2. refusals of unknown senders do not grow the audit table ---------------------------


def test_anonymous_or_unreadable_admin_refusals_are_not_audited_but_known_ones_are():
    t = make_tenant("rf")
    start = _last_seq()
    for body in (b"{not json", json.dumps({"api": "1"}).encode()):
        out = pipeline.submit(pipeline.Ingress(channel=Channel.ADMIN, body=body))
        assert out.envelope["error"]["code"] == "invalid_envelope"
    anonymous = submit("tenants.config.get", {}, tenant=t["slug"], user=None, admin=True)
    assert anonymous.envelope["error"]["code"] == "forbidden"
    assert _entries_since(start, outcome="refused", actor="") == []
    # An authenticated actor refused on an existing tenant is audited.
    refused = submit("tenants.config.get", {}, tenant=t["slug"], user=t["member"], admin=True)
    assert refused.envelope["error"]["code"] == "forbidden"
    (entry,) = _entries_since(start, outcome="refused", actor=t["member"].email)
    assert entry.tenant == t["slug"] and entry.action == "tenants.config.get"


# --- 3. the actor of a refusal is in the central error log --------------------------------


def test_a_refusal_with_a_valid_token_names_the_actor_in_the_error_log(client):
    t = make_tenant("el")
    member = t["member"]
    env = {
        "api": "1",
        "id": str(uuid.uuid4()),
        "action": "tenants.config.get",
        "tenant": t["slug"],
        "payload": {},
    }
    response = client.post(
        "/api/v1/admin/actions",
        data=json.dumps(env),
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(member),
    )
    body = response.json()
    assert body["error"]["code"] == "forbidden"
    trace_id = body["meta"]["trace_id"]
    lines = [json.loads(x) for x in audit.error_log_path().read_text().splitlines()]
    (entry,) = [e for e in lines if e["trace_id"] == trace_id]
    assert entry["actor"] == member.email
    # ... and logs.errors.query's actor filter finds it.
    dev = make_user("dev@switchboard.test", developer=True)
    found = ok(
        run_inline(
            "logs.errors.query",
            {"actor": member.email.upper(), "limit": 200},
            schema="public",
            user=dev,
        )
    )
    assert trace_id in {i["trace_id"] for i in found["items"]}
    assert {i["actor"] for i in found["items"]} == {member.email}


# --- 5. invitations: same answer for any address, nobody added without consent ------------


def test_invitations_do_not_reveal_accounts_and_need_the_invitees_consent():
    t, other = make_tenant("inv"), make_tenant("inv")
    slug, owner = t["slug"], t["owner"]
    existing = other["member"]  # another tenant's member
    developer = make_user(f"dev.{slug}@tenancy.test", developer=True)
    new_email = f"new.{slug}@tenancy.test"
    mail.outbox.clear()
    answers = {}
    for email in (new_email, existing.email, developer.email):
        answers[email] = ok(
            run_inline("tenants.members.invite", {"email": email}, schema=slug, user=owner)
        )
    shape = {(a["status"], a["role"], a["expires_at"] is not None) for a in answers.values()}
    assert shape == {("pending", "member", True)}
    assert set(answers[new_email]) == set(answers[existing.email])
    # Nobody was added, no account was created.
    assert not Membership.objects.filter(
        tenant=t["tenant"], user__email__in=[existing.email, developer.email]
    ).exists()
    assert not User.objects.filter(email=new_email).exists()
    # Each got one mail (sent after the commit), with a token.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(answers)
    tokens = {m.to[0]: m.body.split("\n\n")[1].strip() for m in mail.outbox}

    # The existing account accepts: it becomes a member, its password unchanged.
    accepted = ok(
        run_inline(
            "tenants.invitations.accept", {"token": tokens[existing.email]}, schema=slug, user=None
        )
    )
    assert accepted["email"] == existing.email and accepted["role"] == "member"
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)
    # Single use, and bound to its tenant.
    again = run_inline(
        "tenants.invitations.accept", {"token": tokens[existing.email]}, schema=slug, user=None
    )
    assert code(again) == "unauthenticated"
    elsewhere = run_inline(
        "tenants.invitations.accept",
        {"token": tokens[developer.email]},
        schema=other["slug"],
        user=None,
    )
    assert code(elsewhere) == "unauthenticated"
    # A new address chooses its password when accepting.
    no_password = run_inline(
        "tenants.invitations.accept", {"token": tokens[new_email]}, schema=slug, user=None
    )
    assert code(no_password) == "validation_error"
    ok(
        run_inline(
            "tenants.invitations.accept",
            {"token": tokens[new_email], "new_password": "a-new-members-password"},
            schema=slug,
            user=None,
        )
    )
    assert User.objects.get(email=new_email).check_password("a-new-members-password")
    # Once a member, inviting again is a conflict (the owner sees its members anyway).
    member_again = run_inline(
        "tenants.members.invite", {"email": new_email}, schema=slug, user=owner
    )
    assert code(member_again) == "conflict"
    assert Invitation.objects.filter(tenant=t["tenant"], accepted_at__isnull=True).count() == 1


def test_invitation_mail_waits_for_the_commit(monkeypatch):
    t = make_tenant("inv")
    sent = []
    monkeypatch.setattr("tenants.services.invitations.send_mail", lambda **kw: sent.append(kw))
    from django.db import transaction

    from tenants import services
    from tests.tenancy import actor

    with transaction.atomic():
        services.member_invite(
            tenant=t["tenant"], email=f"x.{t['slug']}@tenancy.test", name=None, by=actor(t["owner"])
        )
        assert sent == []  # not inside the handler's transaction
    assert len(sent) == 1


# --- 7. sign-in throttling: atomic, and on the Django admin site too ----------------------


def test_parallel_wrong_passwords_cannot_pass_the_limit():
    user = make_user(f"race.{uuid.uuid4().hex[:8]}@tenancy.test")
    threads, results = 12, []
    barrier = threading.Barrier(threads)

    def attempt():
        try:
            barrier.wait()
            try:
                user_login(email=user.email, password="wrong-password")
            except TenancyError as err:
                results.append(err.code)
        finally:
            connection.close()

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert results.count("unauthenticated") == LOGIN_FAILURE_LIMIT
    assert results.count("rate_limited") == threads - LOGIN_FAILURE_LIMIT
    assert LoginFailure.objects.filter(email=user.email).count() == LOGIN_FAILURE_LIMIT


@pytest.mark.parametrize("right_password_last", [True])
def test_the_admin_site_login_is_throttled(right_password_last):
    t = make_tenant("adl")
    owner = t["owner"]
    browser = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(LOGIN_FAILURE_LIMIT):
        page = browser.post("/admin/login/", {"username": owner.email, "password": "wrong"})
        assert page.status_code == 200  # the form again
    assert set(LoginFailure.objects.filter(email=owner.email).values_list("source", flat=True)) == {
        "198.51.100.7"
    }
    page = browser.post(
        "/admin/login/?next=/admin/", {"username": owner.email, "password": PASSWORD}
    )
    assert page.status_code == 200 and "Too many failed sign-ins" in page.content.decode()
    assert browser.get("/admin/").status_code == 302  # not signed in
    # Without the throttle (no failures), the owner signs in.
    LoginFailure.objects.filter(email=owner.email).delete()
    page = browser.post(
        "/admin/login/?next=/admin/", {"username": owner.email, "password": PASSWORD}
    )
    assert page.status_code == 302 and browser.get("/admin/").status_code == 200
