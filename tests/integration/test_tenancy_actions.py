"""The tenancy actions for real: owners, members, config, super admin, auth. Run inline
(the executor in this process) so that mails and audit entries can be looked at."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tenants import services
from tenants.models import Membership, SuperAdminGrant
from tenants.tasks import password_reset_mail
from tenants.tokens import InvalidToken, actor_from_authorization
from tests.tenancy import PASSWORD, bearer, code, make_tenant, make_user, ok, run_inline, submit


def test_delegation_revocation_and_transfer_keep_one_primary_owner(audited):
    t = make_tenant()
    slug, primary, owner, member = t["slug"], t["primary_owner"], t["owner"], t["member"]
    delegated = ok(
        run_inline("tenants.owners.delegate", {"email": member.email}, schema=slug, user=primary)
    )
    assert delegated["role"] == "owner"
    # A secondary owner may not delegate: that is the primary owner's right.
    refused = submit(
        "tenants.owners.revoke", {"email": member.email}, tenant=slug, user=owner, admin=True
    )
    assert refused.envelope["error"]["code"] == "forbidden"
    moved = ok(
        run_inline("tenants.primary.transfer", {"email": owner.email}, schema=slug, user=primary)
    )
    assert (moved["previous"]["role"], moved["current"]["role"]) == ("owner", "primary_owner")
    roles = dict(Membership.objects.filter(tenant=t["tenant"]).values_list("user_id", "role"))
    assert list(roles.values()).count("primary_owner") == 1 and roles[owner.pk] == "primary_owner"
    # The old primary is a secondary owner now: the new primary revokes them.
    ok(run_inline("tenants.owners.revoke", {"email": primary.email}, schema=slug, user=owner))
    # The worker re-reads the roles: a secondary owner's transfer is refused there too.
    again = run_inline(
        "tenants.primary.transfer", {"email": member.email}, schema=slug, user=member
    )
    assert code(again) == "forbidden"
    actions = [e["action"] for e in audited]
    assert {"tenants.owners.delegate", "tenants.primary.transfer", "tenants.owners.revoke"} <= set(
        actions
    )
    transfer = next(
        e
        for e in audited
        if e["action"] == "tenants.primary.transfer" and "to" in e["payload_summary"]
    )
    assert transfer["payload_summary"] == {"from": primary.email, "to": owner.email}


def test_owners_invite_and_remove_members_but_not_owners(audited):
    t = make_tenant()
    slug, owner = t["slug"], t["owner"]
    mail.outbox.clear()
    invited = ok(
        run_inline(
            "tenants.members.invite", {"email": f"new.{slug}@tenancy.test"}, schema=slug, user=owner
        )
    )
    assert invited["status"] == "pending" and invited["expires_at"]
    assert mail.outbox and mail.outbox[-1].to == [f"new.{slug}@tenancy.test"]
    token = mail.outbox[-1].body.split("\n\n")[1].strip()
    ok(
        run_inline(
            "tenants.invitations.accept",
            {"token": token, "new_password": "a-good-new-password"},
            schema=slug,
            user=None,
        )
    )
    again = run_inline(
        "tenants.members.invite", {"email": f"new.{slug}@tenancy.test"}, schema=slug, user=owner
    )
    assert code(again) == "conflict"
    removed = run_inline(
        "tenants.members.remove", {"email": f"new.{slug}@tenancy.test"}, schema=slug, user=owner
    )
    assert ok(removed)["deleted"] is True
    not_owner = run_inline(
        "tenants.members.remove", {"email": t["owner"].email}, schema=slug, user=owner
    )
    assert code(not_owner) == "conflict"
    listed = ok(run_inline("tenants.owners.list", {}, schema=slug, user=owner))
    assert {m["role"] for m in listed["items"]} == {"owner", "primary_owner"}


def test_an_owner_developer_under_a_grant_is_super_admin_in_every_audit_row(audited):
    """One rule (tenants.roles.acting_as_super_admin) for the service's entry and the
    executor's: a secondary owner who is a developer, promoted, delegates an owner (a
    primary owner's action). Their membership would not allow it: both rows say
    as_super_admin."""
    t = make_tenant()
    owner_dev, slug = t["owner"], t["slug"]
    owner_dev.is_developer = True
    owner_dev.save(update_fields=["is_developer"])
    promote = {"reason": "customer ticket 12"}
    ok(run_inline("superadmin.promote", promote, schema=slug, user=owner_dev))
    audited.clear()
    ok(
        run_inline(
            "tenants.owners.delegate", {"email": t["member"].email}, schema=slug, user=owner_dev
        )
    )
    rows = [e for e in audited if e["action"] == "tenants.owners.delegate"]
    assert len(rows) == 2  # the service's (from/to) and the executor's (payload shape)
    assert all(e["as_super_admin"] is True for e in rows), rows
    # On an owner action the same person acts as themselves, in both rows.
    audited.clear()
    ok(run_inline("tenants.config.set", {"overrides": {}}, schema=slug, user=owner_dev))
    rows = [e for e in audited if e["action"] == "tenants.config.set"]
    assert len(rows) == 2 and all(e["as_super_admin"] is False for e in rows), rows


def test_super_admin_promotion_is_bounded_audited_and_ends(audited):
    t = make_tenant()
    dev = make_user(f"dev.{t['slug']}@tenancy.test", developer=True)
    slug = t["slug"]
    assert code(run_inline("tenants.get", {}, schema=slug, user=dev)) == "forbidden"
    assert "super_admin" not in services.roles_for(
        actor=actor_from_authorization(bearer(dev)), tenant=t["tenant"]
    )
    grant = ok(
        run_inline(
            "superadmin.promote",
            {"reason": "customer ticket 4711: broken config", "expires_in_minutes": 30},
            schema=slug,
            user=dev,
        )
    )
    assert grant["ended_at"] is None
    roles = services.roles_for(actor=actor_from_authorization(bearer(dev)), tenant=t["tenant"])
    assert {"super_admin", "developer"} <= roles and not roles & {"member", "owner"}
    # As super admin: an owner action runs and is audited as such.
    ok(run_inline("tenants.config.set", {"overrides": {}}, schema=slug, user=dev))
    entry = next(
        e for e in audited if e["action"] == "tenants.config.set" and "keys" in e["payload_summary"]
    )
    assert entry["as_super_admin"] is True and entry["actor"] == dev.email
    ok(run_inline("superadmin.demote", {}, schema=slug, user=dev))
    assert "super_admin" not in services.roles_for(
        actor=actor_from_authorization(bearer(dev)), tenant=t["tenant"]
    )
    # A second promotion, left to expire: the sweep closes and audits it once.
    ok(run_inline("superadmin.promote", {"reason": "second look at it"}, schema=slug, user=dev))
    SuperAdminGrant.objects.filter(user=dev, ended_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.superadmin_expire_due(user_id=dev.pk) == 1
    assert services.superadmin_expire_due(user_id=dev.pk) == 0
    # The executor audits every admin action too; the grant's own entries name the grant.
    actions = [e["action"] for e in audited if "grant_id" in (e["payload_summary"] or {})]
    assert actions.count("superadmin.promote") == 2
    assert actions.count("superadmin.demote") == 1 and actions.count("superadmin.expire") == 1
    for entry in audited:
        if "grant_id" in (entry["payload_summary"] or {}):
            assert entry["reason"] and entry["tenant"] == slug and entry["outcome"] == "ok"
    assert services.superadmin_promote.__defaults__ is None  # keyword-only, bounded below
    with pytest.raises(Exception, match="expiry"):
        services.superadmin_promote(
            developer=actor_from_authorization(bearer(dev)),
            tenant=t["tenant"],
            reason="too long a promotion",
            minutes=services.MAX_PROMOTION_MINUTES + 1,
        )


# --- auth -------------------------------------------------------------------------------


def test_logout_kills_the_token_and_refresh_rotates():
    t = make_tenant()
    user = t["member"]
    login = ok(
        run_inline(
            "auth.login", {"email": user.email, "password": PASSWORD}, schema=t["slug"], user=None
        )
    )
    token = "Bearer " + login["access_token"]
    assert actor_from_authorization(token).id == user.pk
    me = ok(run_inline("auth.me", {}, schema=t["slug"], user=user))
    assert me["memberships"] == [{"tenant": t["slug"], "role": "member"}]
    refreshed = ok(
        run_inline(
            "auth.refresh",
            {"refresh_token": login["refresh_token"]},
            schema=t["slug"],
            user=None,
        )
    )
    assert refreshed["access_token"] != login["access_token"]
    # The used refresh token is dead; presenting it again revokes every session.
    replay = run_inline(
        "auth.refresh", {"refresh_token": login["refresh_token"]}, schema=t["slug"], user=None
    )
    assert code(replay) == "unauthenticated"
    with pytest.raises(InvalidToken):
        actor_from_authorization("Bearer " + refreshed["access_token"])
    fresh = ok(
        run_inline(
            "auth.login", {"email": user.email, "password": PASSWORD}, schema=t["slug"], user=None
        )
    )
    ok(run_inline("auth.logout", {}, schema=t["slug"], user=user))
    with pytest.raises(InvalidToken, match="revoked"):
        actor_from_authorization("Bearer " + fresh["access_token"])


def test_forgot_and_reset_are_single_use_and_do_not_reveal_accounts(monkeypatch):
    t = make_tenant()
    user = t["member"]
    mail.outbox.clear()
    queued = []
    monkeypatch.setattr(password_reset_mail, "apply_async", lambda **kw: queued.append(kw))
    unknown = run_inline(
        "auth.forgot", {"email": "nobody@tenancy.test"}, schema=t["slug"], user=None
    )
    known = run_inline("auth.forgot", {"email": user.email}, schema=t["slug"], user=None)
    assert ok(unknown) == ok(known) == {"accepted": True}
    for task in queued:  # as the maintenance worker runs them
        password_reset_mail(**task["kwargs"])
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    token = mail.outbox[0].body.split("\n\n")[1].strip()
    old = bearer(user)
    payload = {"reset_token": token, "new_password": "a-brand-new-password"}
    ok(run_inline("auth.reset", payload, schema=t["slug"], user=None))
    assert code(run_inline("auth.reset", payload, schema=t["slug"], user=None)) == (
        "unauthenticated"
    )
    with pytest.raises(InvalidToken):
        actor_from_authorization(old)  # a reset ends every session
    user.refresh_from_db()
    assert user.check_password("a-brand-new-password")
