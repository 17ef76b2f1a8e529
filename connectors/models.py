"""Connectors to outside systems, their DTOs and traces, and the subscription gate.

Both models live in each tenant's schema (`connectors` is a tenant app): a tenant's
credentials and traces are never in another tenant's tables.
"""

import uuid

from django.db import models


def _hex_id() -> str:
    return uuid.uuid4().hex


class Credential(models.Model):
    """A credential for a provider, encrypted by envelope encryption (connectors/crypto.py):
    `ciphertext` is the JSON of its fields under a data key of its own (AES-256-GCM), and
    `wrapped_key` that data key wrapped by the key-encryption key `kek_id`. No column holds
    a secret in the clear; `fields` holds only the field names."""

    id = models.CharField(primary_key=True, max_length=32, default=_hex_id, editable=False)
    workspace_id = models.CharField(max_length=64)
    provider = models.CharField(max_length=63)
    name = models.CharField(max_length=200)
    fields = models.JSONField(default=list)  # the names of its fields, never their values
    nonce = models.BinaryField(max_length=12)
    ciphertext = models.BinaryField()
    wrapped_key = models.BinaryField(max_length=40)
    kek_id = models.CharField(max_length=16)
    valid = models.BooleanField(null=True)
    checked_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "-created_at"], name="credential_by_provider")]

    def __str__(self) -> str:
        return f"{self.provider} {self.name}"


class TraceOutcome(models.TextChoices):
    OK = "ok"
    ERROR = "error"


class ConnectorTrace(models.Model):
    """One connector call: each step's data (secrets redacted), timings and the outcome.
    `trace_id` is the action's trace id (the one its client and the central log have)."""

    id = models.CharField(primary_key=True, max_length=32, default=_hex_id, editable=False)
    trace_id = models.CharField(max_length=64, db_index=True)
    action = models.CharField(max_length=100)
    message_id = models.CharField(max_length=64)
    connector = models.CharField(max_length=63)
    connector_version = models.PositiveIntegerField()
    # [{"step": "request|outbound|inbound|response", "data": {...}, "ms": float}], in order
    steps = models.JSONField(default=list)
    config = models.JSONField(default=dict)  # the connector's config (no secrets)
    attempts = models.JSONField(default=list)  # [{"at", "ms", "error"}] per attempt
    outcome = models.CharField(max_length=5, choices=TraceOutcome.choices)
    error = models.JSONField(null=True)  # {"code", "message", "retryable", "kind"}
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["-started_at", "-id"], name="trace_by_time")]

    def __str__(self) -> str:
        return f"{self.connector} {self.action} {self.outcome}"
