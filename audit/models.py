"""The admin audit log: append-only and hash-chained, in the public schema.

Append-only twice over: the model refuses to save an existing row or delete one, and
a PostgreSQL trigger (migration 0002) refuses UPDATE, DELETE and TRUNCATE from anyone
who does not switch triggers off. Against someone who can (database superuser), the
hash chain makes the change visible: `manage.py audit_verify` names the first entry
whose content, order or presence no longer fits.
"""

from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or remove an audit entry."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("admin audit entries cannot be changed")

    def delete(self):
        raise AppendOnlyError("admin audit entries cannot be deleted")


class AdminAuditEntry(models.Model):
    # Assigned under an advisory lock as last + 1 (not a sequence: rolled-back inserts
    # leave sequence gaps, and a gap must mean a deleted entry).
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=254, blank=True)  # email; "" for the system
    actor_role = models.CharField(max_length=20, blank=True)
    tenant = models.CharField(max_length=63, blank=True, db_index=True)  # "" = platform
    action = models.CharField(max_length=100)
    version = models.PositiveIntegerField(null=True)
    message_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    outcome = models.CharField(max_length=40)
    code = models.CharField(max_length=40, blank=True)
    payload_summary = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    as_super_admin = models.BooleanField(default=False)
    grant_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["tenant", "-at"], name="audit_tenant_at")]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("admin audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("admin audit entries cannot be deleted")
