"""Celery tasks: thin entry points over actions.worker.executor and actions.delivery.outbox."""

import logging
import time

from celery import shared_task

from actions.connections import dependency_lost, drop_connection
from actions.delivery import outbox
from actions.worker import executor
from actions.worker import steps as worker_steps
from config.queues import execute_task

log = logging.getLogger(__name__)
REQUEUE_PAUSE_S = 1.0  # between attempts while a dependency is down: no hot loop


def _run(task, channel: str, schema: str, record_id: str, facts: dict) -> str:
    if worker_steps.served_channel not in (None, channel):
        # A worker of the other channel must never run this; put it back for the right one.
        from celery.exceptions import Reject

        raise Reject(f"{channel} task on a {worker_steps.served_channel} worker", requeue=True)
    # `actor_id` (the sender, None when anonymous) is in messages the outbox builds; a
    # message without it still runs, one round trip slower.
    known = {"actor_id": facts["actor_id"]} if "actor_id" in facts else {}
    # A message may carry more records of the same tenant and action (`also`: the outbox
    # publishes records stored at the same moment together, actions.delivery.outbox).
    records = [(record_id, known)] + [
        (other_id, {"actor_id": actor_id}) for other_id, actor_id in facts.get("also", ())
    ]
    slot = bool(facts.get("slot"))  # the records hold fair-scheduling slots to free
    # RabbitMQ's flag, or the flag of a record split off a redelivered message (below).
    redelivered = bool((task.request.delivery_info or {}).get("redelivered"))
    redelivered = redelivered or bool(facts.get("redelivered"))
    try:
        if redelivered and len(records) > 1:
            # Its worker died (or lost a dependency) while running one of these records,
            # maybe a poison message: each goes on alone, so that one record's crashes
            # count only its own attempts and hold no other record back, and none is left
            # in a message the broker may dead-letter (docs/reliability.md).
            outbox.publish_apart(
                channel=channel,
                schema=schema,
                action=getattr(task.request, "action", None) or "",
                records=[(other_id, one["actor_id"]) for other_id, one in records[1:]],
                slot=slot,
            )
            log.info("a redelivered message of %d records: each goes on alone", len(records))
            records = records[:1]
        status, failed = "skipped", None
        for one_id, one_known in records:
            worker_steps.served_count[channel] += 1
            try:
                status = executor.execute(
                    channel=channel,
                    schema=schema,
                    record_id=one_id,
                    worker=task.request.hostname or "",
                    redelivered=redelivered,
                    slot=slot,
                    **one_known,
                )
            except Exception as exc:
                if dependency_lost(exc) is not None:
                    raise  # the message comes back redelivered: the rest run from there
                # A bug outside the handler (its own failures are the record's answer): the
                # record's lease and the sweep retry it; the message's others still run.
                failed = failed or exc
        if failed is not None:
            raise failed
        return status
    except Exception as exc:
        if dependency_lost(exc) is None and not isinstance(exc, outbox.PublishFailed):
            raise
        # The database (or broker) is briefly away: not the action's failure. The message
        # goes back to the queue (redelivered, so the record is taken over at once) after
        # a pause, rather than waiting for the record's lease and the sweep.
        from celery.exceptions import Reject

        drop_connection()
        time.sleep(REQUEUE_PAUSE_S)
        lost = dependency_lost(exc) or "broker"
        raise Reject(f"{lost} unavailable; requeued", requeue=True) from exc


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
