"""Publishing accepted actions to RabbitMQ, after the record is committed (the outbox).

`publish` sends the Celery task for a stored record and marks it published once the
broker confirmed it; `sweep` republishes records that were stored but never marked,
which covers a broker outage or a crash between commit and publish, and records whose
worker lease ran out (see actions.executor).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_tenant_model, schema_context
from kombu import Connection
from kombu.pools import producers

from actions import executor
from actions.models import ActionRecord, RecordStatus
from actions.registry import registry
from actions.replies import broker_url

log = logging.getLogger(__name__)


def task_name(channel: str) -> str:
    return f"switchboard.{channel}.execute"


def routing_key(*, channel: str, tenant: str, action: str) -> str:
    """Routing keys carry channel, tenant and action: `user.acme.leads.create`."""
    return f"{channel}.{tenant}.{action}"


_connections: dict[str, Connection] = {}


def _connection(channel: str) -> Connection:
    url = broker_url(channel)
    if url not in _connections:
        _connections[url] = Connection(
            url,
            transport_options=dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS),
            connect_timeout=5,
        )
    return _connections[url]


def publish(*, schema: str, record: ActionRecord) -> bool:
    """Publish the task for `record` with a publisher confirm; True once confirmed."""
    from config.celery import app

    tenant = "platform" if schema == settings.PUBLIC_SCHEMA_NAME else schema
    try:
        with producers[_connection(record.channel)].acquire(block=True, timeout=5) as producer:
            app.send_task(
                task_name(record.channel),
                args=[schema, str(record.id)],
                producer=producer,
                queue=f"switchboard.{record.channel}.actions",  # declared before publishing
                routing_key=routing_key(
                    channel=record.channel, tenant=tenant, action=record.action
                ),
                headers={"tenant": schema, "action": record.action},
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
            )
    except Exception:  # the sweep publishes it later; the client already has its answer
        log.warning("publish of %s deferred to the outbox sweep", record.id, exc_info=True)
        return False
    with schema_context(schema):
        ActionRecord.objects.filter(id=record.id, published_at__isnull=True).update(
            published_at=timezone.now()
        )
    return True


def record_schemas() -> list[str]:
    """Every schema that holds action records: public (platform) and each tenant's."""
    return [settings.PUBLIC_SCHEMA_NAME] + list(
        get_tenant_model()
        .objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .values_list("schema_name", flat=True)
    )


def sweep(*, older_than_s: float | None = None) -> int:
    """Republish, in every schema, the records stored but never published and the running
    ones whose lease ran out (their worker died or could not record the result)."""
    grace = settings.SWITCHBOARD["OUTBOX_GRACE_SECONDS"] if older_than_s is None else older_than_s
    now = timezone.now()
    count = 0
    for schema in record_schemas():
        with schema_context(schema):
            unpublished = ActionRecord.objects.filter(
                published_at__isnull=True,
                status=RecordStatus.ACCEPTED,
                created_at__lt=now - timedelta(seconds=grace),
            )
            running = ActionRecord.objects.filter(
                status=RecordStatus.RUNNING,
                started_at__lt=now - timedelta(seconds=executor.LEASE_GRACE_S),
            )
            stale = list(unpublished.order_by("created_at")[:500]) + [
                record
                for record in running.order_by("started_at")[:500]
                if record.started_at
                < executor.lease_expired_before(registry.get(record.action, record.version), now)
            ]
        for record in stale:
            count += publish(schema=schema, record=record)
    connection.close_if_unusable_or_obsolete()
    return count
