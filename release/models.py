"""Requests to release an action in an environment (public schema: a build, which runs
outside any tenant, marks them done)."""

import uuid

from django.db import models


class ReleaseRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RELEASED = "released"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.CharField(max_length=63, db_index=True)  # slug of the asking tenant
    requester = models.CharField(max_length=254)  # the owner's email
    action = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    environment = models.CharField(max_length=20)
    note = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(max_length=254, blank=True)

    class Meta:
        indexes = [models.Index(fields=["environment", "status"])]
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return f"{self.action}@{self.version} in {self.environment} ({self.status})"
