"""A bare reliable Celery app: the baseline Switchboard's pipeline is compared against.

Deliberately not `config.celery`'s app: none of Switchboard's steps, queues or ingress,
just the reliability settings the pipeline itself uses (late acks, reject on worker
lost, prefetch 1, publisher confirms, persistent messages on a durable queue) and one
task doing the benchmark action's real work: one `CtaEvent` insert in tenant `acme`.
Run a worker with `celery -A tests.bench.bare_app worker` (tests/bench/bare_celery.py).
"""

import os

import django
from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local_test")
django.setup()  # before the models are imported, in the worker and in the client alike

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from actions.models import CtaEvent  # noqa: E402

# `switchboard_user` may configure, write and read any name but the admin ones
# (deploy/preflight.py), so the bench queue lives under switchboard.bench.*.
QUEUE = "switchboard.bench.bare"
ROUTING_KEY = "bench.bare"
SURFACE = "bench-bare"  # marks the rows the benchmark inserts, so it can delete them

exchange = Exchange(QUEUE, type="direct", durable=True)

app = Celery("bench_bare")
app.conf.update(
    broker_url=settings.BROKER_URL_USER,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"confirm_publish": True},
    result_backend="rpc://",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_default_delivery_mode="persistent",
    task_queues=(Queue(QUEUE, exchange, routing_key=ROUTING_KEY, durable=True),),
    task_default_queue=QUEUE,
    task_default_exchange=QUEUE,
    task_default_routing_key=ROUTING_KEY,
    worker_hijack_root_logger=False,
    # Celery's Django fixup reads this literal key (app.conf.get("CELERY_DB_REUSE_MAX")),
    # not a lowercase `worker_db_reuse_max`; without it every task closes its connection
    # and the next one pays for a new PostgreSQL connection.
    CELERY_DB_REUSE_MAX=1000,
)


@app.task(name="bench.bare.cta_insert", bind=True)
def cta_insert(self, surface: str, cta_id: str) -> int:
    """Insert one CTA event in tenant `acme`'s schema and return its primary key."""
    with schema_context("acme"):
        event = CtaEvent.objects.create(
            surface=surface,
            cta_id=cta_id,
            event="click",
            occurred_at=timezone.now(),
            message_id=self.request.id,
        )
    return event.pk
