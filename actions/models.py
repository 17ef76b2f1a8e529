"""Action records: one row per accepted action message, in the tenant's own schema.

The record is the outbox (stored before it is published; `published_at` stays null until
the broker confirmed it) and the result store (status, result or error, timings).
"""

import uuid

from django.db import models


class RecordStatus(models.TextChoices):
    ACCEPTED = "accepted"  # stored, maybe not yet published
    RUNNING = "running"
    OK = "ok"
    ERROR = "error"


FINISHED = (RecordStatus.OK, RecordStatus.ERROR)


class ActionRecord(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)  # the envelope id
    action = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    channel = models.CharField(max_length=10)
    transport = models.CharField(max_length=10)  # rest | amqp
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    # Secret fields are removed once the action has run (actions/contract/redaction.py).
    payload = models.JSONField(default=dict)
    payload_hash = models.CharField(max_length=64)  # HMAC: same id + other payload = conflict
    meta = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=RecordStatus.choices, default=RecordStatus.ACCEPTED
    )
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    trace_id = models.CharField(max_length=32)
    reply_to = models.JSONField(default=list, blank=True)  # AMQP [reply_to, correlation_id]s
    attempts = models.PositiveIntegerField(default=0)
    executed_by = models.CharField(max_length=200, blank=True)  # worker hostname
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # Secrets in a result (the tokens of auth.login) are kept for replays of the same id
    # for a short window, then redacted (actions/worker/retention.py).
    secrets_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="record_unpublished",
                condition=models.Q(published_at__isnull=True),
            ),
            models.Index(fields=["-created_at"], name="record_newest"),
            # Records left running (their worker died): what the outbox sweep looks for.
            models.Index(
                fields=["started_at"],
                name="record_running",
                condition=models.Q(status="running"),
            ),
        ]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def __str__(self) -> str:
        return f"{self.action} {self.id} {self.status}"


class CtaEvent(models.Model):
    """One call-to-action event (analytics.cta.record), in the tenant's own schema."""

    surface = models.CharField(max_length=63)  # where it was shown: page, email, widget...
    cta_id = models.CharField(max_length=63)
    page = models.URLField(max_length=2048, blank=True)
    event = models.CharField(max_length=10)  # view | click | submit
    variant = models.CharField(max_length=63, blank=True)
    lead_id = models.CharField(max_length=64, blank=True)
    session_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()  # when the client saw it happen
    recorded_at = models.DateTimeField(auto_now_add=True)
    message_id = models.UUIDField()  # the action message that recorded it

    class Meta:
        indexes = [models.Index(fields=["cta_id", "occurred_at"], name="cta_by_time")]

    def __str__(self) -> str:
        return f"{self.cta_id} {self.event} {self.occurred_at:%Y-%m-%d %H:%M}"


class Conversation(models.Model):
    """A thread of messages with a lead over one channel, in the tenant's own schema."""

    lead_id = models.CharField(max_length=64, blank=True)  # "": not tied to a lead
    channel = models.CharField(max_length=10)  # email | sms | whatsapp | internal
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, default="open")  # open | closed
    unread_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["lead_id", "channel"], name="conversation_by_lead"),
            models.Index(fields=["-last_message_at", "-id"], name="conversation_by_recency"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.lead_id or '-'} {self.status}"


class Message(models.Model):
    """One message of a conversation; outbound ones keep their connector call's trace."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.CharField(max_length=10)
    direction = models.CharField(max_length=8)  # inbound | outbound
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    to = models.CharField(max_length=254, blank=True)  # the address it went to
    sender_id = models.BigIntegerField(null=True)  # the member who sent it
    status = models.CharField(max_length=10)  # queued | sent | delivered | read | failed | received
    provider_message_id = models.CharField(max_length=200, blank=True)
    connector_trace_id = models.CharField(max_length=64, blank=True)
    message_id = models.UUIDField(unique=True, null=True)  # the action message that sent it
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "-id"], name="message_by_conversation")]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel} {self.status}"
