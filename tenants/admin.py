"""The Django admin site, scoped by tenant.

A tenant owner sees and edits only their own tenants' objects; a developer sees the
tenants they are live super admin on, for as long as the grant lasts; anyone else
(members included) cannot sign in. Model permissions are not used: the scope is the
permission. Every change made here is written to the admin audit log.

Role changes are not editable here: they go through the tenants.* actions, which keep
the one-primary-owner rule and the delegation rights.
"""

import json

from django.apps import apps
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit import admin_log
from tenants.admin_site import admin_scope
from tenants.models import Membership, SuperAdminGrant, Tenant, TenantConfigVersion
from tenants.roles import OWNER_ROLES
from tenants.services import superadmin_grant_acted_under


class TenantScopedAdmin(admin.ModelAdmin):
    """Objects of the tenants in the user's admin scope; view-only unless `editable`."""

    tenant_lookup = "tenant_id"
    editable = False

    def _in_scope(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        scope = admin_scope(request)
        if obj is None:
            return bool(scope)
        tenant_id = obj.pk if isinstance(obj, Tenant) else obj.tenant_id
        return tenant_id in scope

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.tenant_lookup}__in": admin_scope(request)})

    def has_module_permission(self, request):
        return self._in_scope(request)

    def has_view_permission(self, request, obj=None):
        return self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.editable and self._in_scope(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _audit(self, request, obj, verb: str, message) -> None:
        tenant = obj if isinstance(obj, Tenant) else getattr(obj, "tenant", None)
        user = request.user
        grant = None
        if user.is_developer and tenant is not None:
            # The admin site is owners' ground: an owner acts as themselves; anyone else
            # here acts under a grant (tenants.roles.acting_as_super_admin decides).
            grant = superadmin_grant_acted_under(
                user_id=user.pk,
                tenant_slug=tenant.schema_name,
                at=timezone.now(),
                action_roles=tuple(OWNER_ROLES),
            )
        admin_log.admin_audit_write(
            actor=user.email,
            tenant=tenant.schema_name if tenant is not None else None,
            action=f"django_admin.{obj._meta.model_name}.{verb}",
            outcome="ok",
            payload_summary={"object_id": str(obj.pk), "change": str(message)[:500]},
            as_super_admin=grant is not None,
            grant_id=str(grant.pk) if grant else None,
            reason=grant.reason if grant else None,
        )

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit(request, obj, "change", message)
        return entry

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, obj, "add", message)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, obj, "delete", "deleted")
        return entries


def _json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


def subscriptions_of(tenant: Tenant) -> list[tuple[str, str]]:
    """(connector, since) of the tenant's connector subscriptions; empty until the
    connectors package keeps them (a `Subscription` model with `tenant`)."""
    for model in apps.get_app_config("connectors").get_models():
        if model.__name__ == "Subscription":
            rows = model._default_manager.filter(tenant=tenant)
            return [
                (str(getattr(r, "connector", r)), str(getattr(r, "created_at", ""))) for r in rows
            ]
    return []


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    tenant_lookup = "pk"
    editable = True
    list_display = ("schema_name", "name", "config_version", "created_at")
    fields = (
        "schema_name",
        "name",
        "config_version",
        "config_overrides",
        "config_effective",
        "subscriptions",
        "created_at",
    )
    # The config is changed with tenants.config.set, which validates and versions it.
    readonly_fields = (
        "schema_name",
        "config_version",
        "config_overrides",
        "config_effective",
        "subscriptions",
        "created_at",
    )
    search_fields = ("schema_name", "name")

    @admin.display(description="config overrides (what the tenant set)")
    def config_overrides(self, obj: Tenant) -> str:
        return _json(obj.config or {})

    @admin.display(description="effective config (overrides merged over the defaults)")
    def config_effective(self, obj: Tenant) -> str:
        from tenants.config import config_effective

        return _json(config_effective(tenant=obj))

    @admin.display(description="connector subscriptions")
    def subscriptions(self, obj: Tenant) -> str:
        rows = subscriptions_of(obj)
        if not rows:
            return "none"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} (since {})</li>", rows))


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    readonly_fields = ("user", "tenant", "role", "created_at")


@admin.register(TenantConfigVersion)
class TenantConfigVersionAdmin(TenantScopedAdmin):
    list_display = ("tenant", "version", "changed_by", "changed_at")
    readonly_fields = ("tenant", "version", "overrides", "changed_by", "changed_at")


@admin.register(SuperAdminGrant)
class SuperAdminGrantAdmin(TenantScopedAdmin):
    list_display = ("user", "tenant", "granted_at", "expires_at", "ended_at", "end_reason")
    readonly_fields = (
        "user",
        "tenant",
        "reason",
        "granted_at",
        "expires_at",
        "ended_at",
        "end_reason",
    )
