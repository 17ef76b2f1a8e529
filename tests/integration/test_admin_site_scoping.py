"""Issue 3: the Django admin site (/admin/) is scoped by tenant, and audited.

A tenant owner sees and edits only their own tenant's objects; a developer sees the tenants
they are live super admin on (superadmin.promote), for as long as the grant lasts; a member
cannot enter. Each change made there is in the admin audit log. Also `manage.py
tenant_create`, the command-line equivalent of tenants.create, with progress on stdout.

Everything goes through real HTTP requests on the admin URLs with Django's test client,
against the real database (real commits). Shared demo data (acme, beta) is restored.
"""

import re
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib import admin
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AdminAuditEntry
from tenants import services
from tenants.accounts import LOGIN_FAILURE_LIMIT
from tenants.admin import TenantScopedAdmin
from tenants.identity import Actor
from tenants.models import (
    LoginFailure,
    Membership,
    SuperAdminGrant,
    Tenant,
    TenantConfigVersion,
)
from tenants.roles import MembershipRole
from tests.conftest import DEMO_PASSWORD

OWNER_ACME = "owner@acme.test"
MEMBER_ACME = "member@acme.test"
LOGIN_URL = "/admin/login/"
PASSWORD = "admin-scoping-test-password"
REFUSED = "This account does not manage any tenant."


# --- helpers --------------------------------------------------------------------------------


def hexid() -> str:
    return uuid.uuid4().hex[:10]


def form_login(client: Client, email: str, password: str):
    """Sign in through the admin's own login form, as a browser would."""
    return client.post(
        f"{LOGIN_URL}?next=/admin/",
        {"username": email, "password": password, "next": "/admin/"},
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def tenant(slug: str) -> Tenant:
    return Tenant.objects.get(schema_name=slug)


def user(email: str):
    from tenants.models import User

    return User.objects.get(email=email)


def as_actor(u) -> Actor:
    return Actor(id=u.pk, email=u.email, is_developer=u.is_developer)


def fresh_developer():
    return services.user_ensure(
        email=f"dev.{hexid()}@admin-scoping.test", password=PASSWORD, is_developer=True
    )


def scoped_admins() -> list[tuple[type, TenantScopedAdmin]]:
    return [(m, ma) for m, ma in admin.site._registry.items() if isinstance(ma, TenantScopedAdmin)]


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def history_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk])


def rows_of(model_admin: TenantScopedAdmin, tenant_obj: Tenant):
    """The objects of `model_admin`'s model that belong to `tenant_obj`."""
    model = model_admin.model
    # The lookup is the admin's own attribute (code, not client input).
    return model._default_manager.filter(Q((model_admin.tenant_lookup, tenant_obj.pk)))


def last_seq() -> int:
    last = AdminAuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


def location(response) -> str:
    return response.headers.get("Location", "")


def assert_no_entry(response):
    """Refused: an error status, or a redirect away (to the login page or the index)."""
    assert response.status_code in (302, 403, 404), response.status_code


# --- 1. owners ------------------------------------------------------------------------------


def test_owner_signs_in_through_the_admin_login_form_and_reaches_the_index():
    client = Client()
    response = form_login(client, OWNER_ACME, DEMO_PASSWORD)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert location(response) == "/admin/"
    assert signed_in(client)
    assert int(client.session["_auth_user_id"]) == user(OWNER_ACME).pk
    index = client.get("/admin/")
    assert index.status_code == 200
    page = index.content.decode()
    # Every tenant-scoped model is offered; auth's Group admin (no scope) is not.
    for model, _ in scoped_admins():
        assert changelist_url(model) in page
    assert "/admin/auth/group/" not in page


def test_owner_sees_acme_and_never_beta_in_every_changelist():
    acme, beta = tenant("acme"), tenant("beta")
    client = Client()
    client.force_login(user(OWNER_ACME))
    scoped = scoped_admins()
    assert {m for m, _ in scoped} >= {Tenant, Membership, TenantConfigVersion, SuperAdminGrant}
    for model, model_admin in scoped:
        response = client.get(changelist_url(model))
        assert response.status_code == 200, (model, response.status_code)
        page = response.content.decode()
        for obj in rows_of(model_admin, beta):
            assert change_url(obj) not in page, f"{model.__name__} {obj.pk} of beta listed"
        mine = list(rows_of(model_admin, acme).order_by("-pk")[: model_admin.list_per_page])
        if model is Tenant or model is Membership:
            assert mine, "the demo data has acme rows here"
        if mine:
            assert any(change_url(obj) in page for obj in mine), model.__name__
        # The count shown is the scoped count, not the table's.
        expected = rows_of(model_admin, acme).count()
        listed = response.context["cl"].result_count
        assert listed == expected, (model.__name__, listed, expected)
    tenants_page = client.get(changelist_url(Tenant)).content.decode()
    assert change_url(acme) in tenants_page
    assert change_url(beta) not in tenants_page
    assert beta.name not in tenants_page
    # Other registered admins (auth.Group) and unregistered models (users) stay closed.
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, TenantScopedAdmin):
            assert client.get(changelist_url(model)).status_code == 403, model
    assert client.get("/admin/tenants/user/").status_code == 404


def test_owner_search_and_url_filters_do_not_reach_beta():
    beta = tenant("beta")
    client = Client()
    client.force_login(user(OWNER_ACME))
    found = client.get(changelist_url(Tenant), {"q": "beta"})
    assert found.status_code == 200
    assert found.context["cl"].result_count == 0
    assert change_url(beta) not in found.content.decode()
    beta_members = list(Membership.objects.filter(tenant=beta))
    assert beta_members
    filtered = client.get(changelist_url(Membership), {"tenant__id__exact": beta.pk})
    # Django refuses an undeclared lookup (redirect with ?e=1) or it finds nothing.
    if filtered.status_code == 200:
        page = filtered.content.decode()
        assert not any(change_url(m) in page for m in beta_members)
    else:
        assert filtered.status_code in (302, 400)


def test_owner_cannot_open_or_edit_beta_objects():
    beta = tenant("beta")
    beta_name = beta.name
    owner = user(OWNER_ACME)
    developer = fresh_developer()
    grant = services.superadmin_promote(
        developer=as_actor(developer), tenant=beta, reason="admin scoping test: beta grant"
    )
    try:
        beta_objects = [beta, Membership.objects.filter(tenant=beta).first(), grant]
        version = TenantConfigVersion.objects.filter(tenant=beta).first()
        if version is not None:
            beta_objects.append(version)
        client = Client()
        client.force_login(owner)
        before = last_seq()
        for obj in beta_objects:
            assert obj is not None
            response = client.get(change_url(obj))
            assert_no_entry(response)
            if response.status_code == 302:
                assert change_url(obj) not in location(response)
            assert beta_name not in response.content.decode()
            assert_no_entry(client.get(history_url(obj)))
        # A forged POST to beta's change page changes nothing.
        response = client.post(change_url(beta), {"name": f"hijacked {hexid()}", "_save": "Save"})
        assert_no_entry(response)
        assert tenant("beta").name == beta_name
        assert not AdminAuditEntry.objects.filter(seq__gt=before, actor=owner.email).exists()
    finally:
        Tenant.objects.filter(pk=beta.pk).update(name=beta_name)
        SuperAdminGrant.objects.filter(pk=grant.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason="demoted"
        )


def test_owner_edits_acme_and_the_change_is_in_the_admin_audit_log():
    acme = tenant("acme")
    original = acme.name
    new_name = f"Acme renamed {hexid()}"
    owner = user(OWNER_ACME)
    client = Client()
    client.force_login(owner)
    before = last_seq()
    try:
        form = client.get(change_url(acme))
        assert form.status_code == 200
        assert original in form.content.decode()
        forged_version = acme.config_version + 1000
        response = client.post(
            change_url(acme),
            {
                "name": new_name,
                "schema_name": "hijacked",
                "config_version": forged_version,
                "_save": "Save",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert location(response) == changelist_url(Tenant)
        acme.refresh_from_db()
        assert acme.name == new_name
        # The read-only fields are not writable through the form.
        assert acme.schema_name == "acme"
        assert acme.config_version != forged_version
        entries = list(AdminAuditEntry.objects.filter(seq__gt=before, actor=owner.email))
        assert len(entries) == 1, [(e.action, e.tenant) for e in entries]
        entry = entries[0]
        assert entry.action == "django_admin.tenant.change"
        assert entry.tenant == "acme"
        assert entry.outcome == "ok"
        assert entry.as_super_admin is False
        assert entry.actor_role == ""
        assert entry.payload_summary["object_id"] == str(acme.pk)
        assert "name" in entry.payload_summary["change"].lower()
    finally:
        Tenant.objects.filter(pk=acme.pk).update(name=original)


def test_owner_cannot_change_roles_in_the_admin():
    acme = tenant("acme")
    membership = Membership.objects.get(tenant=acme, user__email=MEMBER_ACME)
    client = Client()
    client.force_login(user(OWNER_ACME))
    assert client.get(change_url(membership)).status_code == 200  # viewable
    before = last_seq()
    response = client.post(change_url(membership), {"role": MembershipRole.OWNER, "_save": "Save"})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == MembershipRole.MEMBER
    assert not AdminAuditEntry.objects.filter(seq__gt=before, actor=OWNER_ACME).exists()


# --- 2. members -----------------------------------------------------------------------------


def test_member_cannot_sign_in_to_the_admin():
    client = Client()
    response = form_login(client, MEMBER_ACME, DEMO_PASSWORD)
    assert response.status_code == 200  # the form again, with the refusal
    assert REFUSED in response.content.decode()
    assert not signed_in(client)
    assert location(client.get("/admin/")).startswith(LOGIN_URL)
    # Even with a session made some other way, nothing opens.
    client.force_login(user(MEMBER_ACME))
    for model, _ in scoped_admins():
        response = client.get(changelist_url(model))
        assert response.status_code == 302
        assert location(response).startswith(LOGIN_URL)
    response = client.get(change_url(tenant("acme")))
    assert response.status_code == 302
    assert location(response).startswith(LOGIN_URL)


def test_admin_login_is_throttled_with_the_auth_login_counter():
    email = f"throttle.{hexid()}@admin-scoping.test"
    services.user_ensure(email=email, password=PASSWORD)
    try:
        client = Client()
        for _ in range(LOGIN_FAILURE_LIMIT):
            response = form_login(client, email, "wrong password")
            assert response.status_code == 200
            assert not signed_in(client)
        failures = LoginFailure.objects.filter(email=email)
        assert failures.count() == LOGIN_FAILURE_LIMIT
        assert all(f.source == "127.0.0.1" for f in failures)  # the client address
        # Throttled: even the right password is refused, before it is checked.
        response = form_login(client, email, PASSWORD)
        assert response.status_code == 200
        assert "Too many failed sign-ins" in response.content.decode()
        assert not signed_in(client)
    finally:
        LoginFailure.objects.filter(email=email).delete()


# --- 3. developers / super admins -----------------------------------------------------------


def test_developer_sees_beta_only_while_promoted():
    acme, beta = tenant("acme"), tenant("beta")
    beta_name = beta.name
    developer = fresh_developer()
    client = Client()
    # Not promoted: no entry, through the form or with a session.
    response = form_login(client, developer.email, PASSWORD)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert not signed_in(client)
    client.force_login(developer)
    assert location(client.get(changelist_url(Tenant))).startswith(LOGIN_URL)
    client.logout()

    grant = services.superadmin_promote(
        developer=as_actor(developer), tenant=beta, reason="admin scoping test: promoted"
    )
    try:
        response = form_login(client, developer.email, PASSWORD)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert signed_in(client)
        page = client.get(changelist_url(Tenant))
        assert page.status_code == 200
        assert change_url(beta) in page.content.decode()
        assert change_url(acme) not in page.content.decode()
        assert page.context["cl"].result_count == 1
        members = client.get(changelist_url(Membership))
        assert members.status_code == 200
        listed = {m.tenant_id for m in members.context["cl"].result_list}
        assert listed == {beta.pk}
        assert_no_entry(client.get(change_url(acme)))

        # A change as super admin is audited as such.
        before = last_seq()
        new_name = f"Beta renamed {hexid()}"
        response = client.post(change_url(beta), {"name": new_name, "_save": "Save"})
        assert response.status_code == 302
        assert tenant("beta").name == new_name
        entry = AdminAuditEntry.objects.get(seq__gt=before, actor=developer.email)
        assert entry.action == "django_admin.tenant.change"
        assert entry.tenant == "beta"
        assert entry.as_super_admin is True
        assert entry.actor_role == "super_admin"

        # Demoted: the same session sees nothing any more.
        services.superadmin_demote(developer=as_actor(developer), tenant=beta)
        for url in (changelist_url(Tenant), change_url(beta), "/admin/"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert location(response).startswith(LOGIN_URL), url
        client.logout()
        assert REFUSED in form_login(client, developer.email, PASSWORD).content.decode()

        # Promoted again, then the grant runs out: gone at once, sweep or not.
        grant = services.superadmin_promote(
            developer=as_actor(developer), tenant=beta, reason="admin scoping test: again"
        )
        assert form_login(client, developer.email, PASSWORD).status_code == 302
        assert client.get(changelist_url(Tenant)).status_code == 200
        SuperAdminGrant.objects.filter(pk=grant.pk).update(
            granted_at=timezone.now() - timedelta(minutes=61),
            expires_at=timezone.now() - timedelta(minutes=1),
        )
        response = client.get(changelist_url(Tenant))
        assert response.status_code == 302
        assert location(response).startswith(LOGIN_URL)
        assert_no_entry(client.get(change_url(beta)))
    finally:
        Tenant.objects.filter(pk=beta.pk).update(name=beta_name)
        services.superadmin_expire_due(user_id=developer.pk)
        SuperAdminGrant.objects.filter(user=developer, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason="demoted"
        )


def test_super_admin_change_in_the_admin_is_audited_with_its_grant():
    beta = tenant("beta")
    beta_name = beta.name
    developer = fresh_developer()
    reason = "admin scoping test: grant in the audit"
    grant = services.superadmin_promote(developer=as_actor(developer), tenant=beta, reason=reason)
    try:
        client = Client()
        client.force_login(developer)
        before = last_seq()
        response = client.post(change_url(beta), {"name": f"Beta {hexid()}", "_save": "Save"})
        assert response.status_code == 302
        entry = AdminAuditEntry.objects.get(seq__gt=before, actor=developer.email)
        assert entry.as_super_admin is True
        assert entry.grant_id == str(grant.pk)
        assert entry.reason == reason
    finally:
        Tenant.objects.filter(pk=beta.pk).update(name=beta_name)
        services.superadmin_demote(developer=as_actor(developer), tenant=beta)


# --- 4. manage.py tenant_create -------------------------------------------------------------

PROGRESS = re.compile(r"^\[\s*\d+\.\d{2}s\] (?P<slug>\w+): (?P<step>.+)$")


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_tenant_create_command_provisions_with_progress_and_refuses_a_second_run():
    slug = f"cli_{hexid()}"
    owner_email = f"owner.{slug}@admin-scoping.test"
    before = last_seq()
    mail.outbox.clear()
    out = StringIO()
    call_command("tenant_create", slug, "--name", f"CLI {slug}", "--owner", owner_email, stdout=out)

    created = Tenant.objects.get(schema_name=slug)
    assert created.name == f"CLI {slug}"
    assert schema_exists(slug)
    primary = Membership.objects.get(tenant=created, role=MembershipRole.PRIMARY_OWNER)
    assert primary.user.email == owner_email
    assert Membership.objects.filter(tenant=created).count() == 1
    assert TenantConfigVersion.objects.filter(tenant=created, version=0).exists()
    # The new owner is invited by mail to set a password.
    assert [m.to for m in mail.outbox] == [[owner_email]]
    assert not primary.user.has_usable_password()
    # Progress on stdout, step by step, then the result.
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    steps = [PROGRESS.match(line) for line in lines[:-1]]
    assert all(steps), lines
    assert {m["slug"] for m in steps} == {slug}
    names = [m["step"] for m in steps]
    assert len(names) >= 3
    assert any("schema" in n for n in names), names
    assert any("owner" in n for n in names), names
    assert names[-1] == "done"
    assert f"tenant {slug} ready" in lines[-1]
    audit = AdminAuditEntry.objects.get(seq__gt=before, action="tenants.create", tenant=slug)
    assert audit.payload_summary["primary_owner"] == owner_email

    # Again for the same slug: a clear refusal, and nothing changes.
    mail.outbox.clear()
    with pytest.raises(CommandError, match="exists already"):
        call_command(
            "tenant_create", slug, "--name", "Other", "--owner", "x@y.test", stdout=StringIO()
        )
    assert Tenant.objects.filter(schema_name=slug).count() == 1
    assert Tenant.objects.get(schema_name=slug).name == f"CLI {slug}"
    assert Membership.objects.filter(tenant=created).count() == 1
    assert mail.outbox == []


def test_tenant_create_command_refuses_a_reserved_slug():
    with pytest.raises(CommandError, match="reserved"):
        call_command(
            "tenant_create",
            "platform",
            "--name",
            "x",
            "--owner",
            f"o.{hexid()}@admin-scoping.test",
            stdout=StringIO(),
        )


def test_tenant_create_command_refuses_a_slug_tenants_create_refuses():
    slug = f"Cli-{hexid()}"
    try:
        with pytest.raises(CommandError):
            call_command(
                "tenant_create",
                slug,
                "--name",
                "bad slug",
                "--owner",
                f"o.{hexid()}@admin-scoping.test",
                stdout=StringIO(),
            )
        assert not Tenant.objects.filter(schema_name=slug).exists()
    finally:
        for leftover in Tenant.objects.filter(schema_name=slug):
            leftover.delete(force_drop=True)
