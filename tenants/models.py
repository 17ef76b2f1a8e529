"""Tenants, their domains, users and memberships. All of these live in the public schema."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

TENANT_SLUG_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
# `platform` is the envelope's name for the public schema (platform-scoped actions).
RESERVED_SLUGS = frozenset({"public", "platform", "information_schema", "pg_catalog"})


class Tenant(TenantMixin):
    """A tenant; `schema_name` is also its slug in the message envelope."""

    name = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True)  # overrides only; see tenants/config.py
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

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

    objects = UserManager()
    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def __str__(self) -> str:
        return self.email


class Role(models.TextChoices):
    MEMBER = "member"
    OWNER = "owner"
    PRIMARY_OWNER = "primary_owner"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique"),
            # Exactly-one is kept by the services; at-most-one is kept by the database.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(role="primary_owner"),
                name="one_primary_owner_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant}: {self.role}"


slug_validator = RegexValidator(TENANT_SLUG_PATTERN)
