"""Tenants, their domains, users and memberships. All of these live in the public schema."""

import logging
import subprocess

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin

from tenants.platform import PLATFORM
from tenants.roles import MembershipRole

TENANT_SLUG_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
# `platform` is the envelope's name for the public schema (platform-scoped actions).
RESERVED_SLUGS = frozenset({"public", PLATFORM, "information_schema", "pg_catalog"})


class Tenant(TenantMixin):
    """A tenant; `schema_name` is also its slug in the message envelope."""

    name = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True)  # overrides only; see tenants/config.py
    config_version = models.PositiveIntegerField(default=0)  # TenantConfigVersion.version
    # The connectors the tenant subscribed to, `{key: {"subscribed_at": iso, "config": {}}}`
    # (written by connectors.subscribe|unsubscribe). On this row so that the subscription
    # gate reads it from the access statement at no extra query (docs/connectors.md).
    connector_subscriptions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """The schema from the migrated template's DDL (tenants/schema_template.py), or by
        the migrations (django-tenants) when that is off or pg_dump is missing."""
        from django.db import connection
        from django_tenants.utils import schema_exists

        from tenants.schema_template import create_schema, replay_available, template_script

        if not sync_schema or not replay_available():
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        try:
            script = template_script()
        except (OSError, subprocess.CalledProcessError):  # pg_dump missing or refusing
            logging.getLogger(__name__).exception("no template DDL: running the migrations")
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        create_schema(self.schema_name, script)
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        return True

    @property
    def slug(self) -> str:
        return self.schema_name

    def __str__(self) -> str:
        return self.schema_name


class Domain(DomainMixin):
    pass


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True, is_developer=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Tenant rights come only from memberships (and super-admin grants)."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    # Platform developer (staff): no tenant rights by default, may be promoted to super admin.
    is_developer = models.BooleanField(default=False)
    is_staff = models.BooleanField(default=False)  # may enter the Django admin site
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Tokens issued before this instant are dead (logout, password change or reset):
    # checked in the same query that loads the actor, so it costs nothing per request.
    tokens_valid_after = models.DateTimeField(null=True, blank=True)

    objects = UserManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        """Every way a password changes (the actions, the admin's forms, `changepassword`,
        any `set_password` + `save`) passes here: tokens issued before it stop working and
        open reset links are spent. `_password` is set by `set_password` only, not by
        `check_password`'s silent rehash (same password, new hash), which clears it first."""
        changed = getattr(self, "_password", None) is not None and not self._state.adding
        if changed:
            self.tokens_valid_after = timezone.now()
            fields = kwargs.get("update_fields")
            if fields is not None and "password" in fields:
                kwargs["update_fields"] = {*fields, "tokens_valid_after"}
        super().save(*args, **kwargs)
        if changed:
            PasswordResetToken.objects.filter(user=self, used_at__isnull=True).update(
                used_at=self.tokens_valid_after
            )


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=20, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique"),
            # Exactly-one is kept by the services; at-most-one is kept by the database.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(role=MembershipRole.PRIMARY_OWNER),
                name="one_primary_owner_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant}: {self.role}"


class TenantConfigVersion(models.Model):
    """Every change of a tenant's config overrides, kept with who and when."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="config_versions")
    version = models.PositiveIntegerField()
    overrides = models.JSONField(default=dict)
    changed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="config_version_unique")
        ]
        ordering = ["tenant", "-version"]


class GrantEnd(models.TextChoices):
    DEMOTED = "demoted"
    EXPIRED = "expired"


class SuperAdminGrant(models.Model):
    """A developer's time-boxed promotion to super admin on one tenant."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="super_admin_grants")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="super_admin_grants")
    reason = models.TextField()
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Set on demotion, or when the expiry was noticed and audited (sweep or next use).
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=GrantEnd.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "tenant", "expires_at"], name="grant_live_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_grant_per_user_tenant",
            )
        ]


class Invitation(models.Model):
    """An invitation of an email address to join a tenant as a member. Nobody is added
    without consent: the membership is made when the invitee accepts with the mailed
    token (`tenants.invitations.accept`); only the token's SHA-256 is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()  # lower-cased
    name = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "email"], name="invitation_tenant_email_idx")]


class RevokedToken(models.Model):
    """A JWT id that may not be used again (a rotated refresh token)."""

    jti = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField()  # past this the row can be swept: the token is dead


class PasswordResetToken(models.Model):
    """A single-use password reset token; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class LoginFailure(models.Model):
    """One failed sign-in or wrong current password; recent ones throttle further attempts
    on the email (and, where the client address is known, on the email from that address
    and on the address: tenants/accounts.py)."""

    email = models.CharField(max_length=254)
    source = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["email", "at"], name="login_failure_idx"),
            models.Index(fields=["source", "at"], name="login_failure_source_idx"),
        ]


slug_validator = RegexValidator(TENANT_SLUG_PATTERN)
