from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class TenantsConfig(AppConfig):
    name = "tenants"
    default = True
    default_auto_field = "django.db.models.BigAutoField"


class SwitchboardAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose default site is scoped to the signed-in user's tenants."""

    default = False
    default_site = "tenants.admin_site.SwitchboardAdminSite"
