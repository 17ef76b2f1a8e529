"""Celery tasks: thin entry points over actions.worker.executor and actions.delivery.outbox."""

import time

from celery import shared_task

from actions.connections import dependency_lost, drop_connection
from actions.delivery import outbox
from actions.worker import executor
from actions.worker import steps as worker_steps
from config.queues import execute_task

REQUEUE_PAUSE_S = 1.0  # between attempts while a dependency is down: no hot loop


def _run(task, channel: str, schema: str, record_id: str, facts: dict) -> str:
    if worker_steps.served_channel not in (None, channel):
        # A worker of the other channel must never run this; put it back for the right one.
        from celery.exceptions import Reject

        raise Reject(f"{channel} task on a {worker_steps.served_channel} worker", requeue=True)
    worker_steps.served_count[channel] += 1
    # `actor_id` (the sender, None when anonymous) is in messages the outbox builds; a
    # message without it still runs, one round trip slower.
    known = {"actor_id": facts["actor_id"]} if "actor_id" in facts else {}
    try:
        return executor.execute(
            channel=channel,
            schema=schema,
            record_id=record_id,
            worker=task.request.hostname or "",
            redelivered=bool((task.request.delivery_info or {}).get("redelivered")),
            slot=bool(facts.get("slot")),  # the record holds a fair-scheduling slot to free
            **known,
        )
    except Exception as exc:
        if dependency_lost(exc) is None:
            raise
        # The database (or broker) is briefly away: not the action's failure. The message
        # goes back to the queue (redelivered, so the record is taken over at once) after
        # a pause, rather than waiting for the record's lease and the sweep.
        from celery.exceptions import Reject

        drop_connection()
        time.sleep(REQUEUE_PAUSE_S)
        raise Reject(f"{dependency_lost(exc)} unavailable; requeued", requeue=True) from exc


@shared_task(name=execute_task("user"), bind=True)
def execute_user(self, schema: str, record_id: str, **facts) -> str:
    return _run(self, "user", schema, record_id, facts)


@shared_task(name=execute_task("admin"), bind=True)
def execute_admin(self, schema: str, record_id: str, **facts) -> str:
    return _run(self, "admin", schema, record_id, facts)


@shared_task(name="switchboard.maintenance.outbox_sweep")
def outbox_sweep() -> int:
    return outbox.sweep()


@shared_task(name="switchboard.maintenance.records_purge_secrets")
def records_purge_secrets() -> int:
    from actions.worker.retention import purge_secrets

    return purge_secrets()
