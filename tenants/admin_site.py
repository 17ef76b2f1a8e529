"""The tenant-scoped Django admin site (the default site, see tenants.apps). Kept apart
from tenants/admin.py: the lazy default site imports this module, and registering models
in the module that defines the site would register them on a discarded instance."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm

from tenants import services


def admin_scope(request) -> list[int]:
    """Tenant ids the signed-in user may manage (computed once per request)."""
    if not hasattr(request, "_switchboard_admin_scope"):
        user = request.user
        scope: list[int] = []
        if user.is_authenticated and user.is_active:
            scope = services.admin_tenants_for(user=user)
        request._switchboard_admin_scope = scope
    return request._switchboard_admin_scope


class TenantAdminAuthenticationForm(AdminAuthenticationForm):
    """Admits owners and live super admins instead of Django's `is_staff` users.

    Sign-ins go through `tenants.accounts.user_login`: the same per-email throttle as
    `auth.login` (failures here and there count together), with the client address.
    """

    def clean(self):
        from tenants.accounts import user_login
        from tenants.errors import TenancyError

        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            source = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
            try:
                user = user_login(email=email, password=password, source=source)
            except TenancyError as err:
                if err.code == "rate_limited":
                    raise forms.ValidationError(err.message, code="rate_limited") from None
                raise self.get_invalid_login_error() from None
            user.backend = "django.contrib.auth.backends.ModelBackend"
            self.user_cache = user
            self.confirm_login_allowed(user)
        return self.cleaned_data

    def confirm_login_allowed(self, user):
        if not user.is_active or not (user.is_superuser or services.admin_tenants_for(user=user)):
            raise forms.ValidationError(
                "This account does not manage any tenant.", code="invalid_login"
            )


class CountedPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's own password change: a wrong current password counts as a failed
    sign-in (`tenants.accounts.password_check_current`), as it does in auth.change_password."""

    def __init__(self, user, *args, **kwargs):
        self.request = kwargs.pop("request", None)
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        from tenants.accounts import password_check_current
        from tenants.errors import TenancyError

        old_password = self.cleaned_data["old_password"]
        source = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        try:
            ok = password_check_current(user=self.user, password=old_password, source=source)
        except TenancyError as err:
            raise forms.ValidationError(err.message, code="rate_limited") from None
        if not ok:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class SwitchboardAdminSite(admin.AdminSite):
    site_header = "Switchboard tenant admin"
    site_title = "Switchboard"
    login_form = TenantAdminAuthenticationForm

    def password_change(self, request, extra_context=None):
        """Django's view with the counted form, which is given the request (the address)."""
        from django.contrib.auth.views import PasswordChangeView
        from django.urls import reverse

        class CountedPasswordChangeView(PasswordChangeView):
            def get_form_kwargs(self):
                return {**super().get_form_kwargs(), "request": self.request}

        defaults = {
            "form_class": CountedPasswordChangeForm,
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        return CountedPasswordChangeView.as_view(**defaults)(request)

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_active and user.is_authenticated and (user.is_superuser or admin_scope(request))
        )
