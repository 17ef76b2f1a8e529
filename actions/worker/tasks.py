"""Celery tasks: thin entry points over actions.worker.executor and actions.delivery.outbox."""

import contextlib
import logging
import threading
import time

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_shutdown, worker_shutting_down

from actions.connections import (
    database_back,
    dependency_lost,
    drop_connection,
    tenant_connections,
)
from actions.delivery import outbox
from actions.worker import executor
from actions.worker import steps as worker_steps
from config.queues import execute_task

log = logging.getLogger(__name__)
REQUEUE_PAUSE_S = 1.0  # between attempts while a dependency is down: no hot loop
# While the database is away, how long a worker thread waits for it (holding its message,
# unacknowledged) before requeueing: a quorum queue counts every requeue toward its
# `x-delivery-limit` (config/queues.py) and dead-letters the message past it, so one
# requeue a second would park every message in flight after a 20 s outage.
DATABASE_WAIT_S = 60.0
# Set when the worker begins a warm shutdown (SIGTERM, SIGINT: Celery's
# worker_shutting_down, sent in the main process, where the threads pool's tasks run): a
# thread waiting for the database (or pausing) puts its message back at once, so that a
# stop during an outage is not held up by the wait. Not in prefork children, which never
# get the signal, nor on a SIGHUP restart: those still wait up to DATABASE_WAIT_S.
STOPPING = threading.Event()


@worker_shutting_down.connect
def _stopping(**kwargs) -> None:
    STOPPING.set()


# Every task of a threads worker runs on a connection of the process's pool
# (actions.connections.TenantConnections): an action's on its tenant's, work over every
# tenant on the pool's maintenance connection. Not an eager task (run inside another).
_unit = threading.local()


@task_prerun.connect
def _take_connection(task=None, args=(), kwargs=None, **_) -> None:
    if task is None or getattr(task.request, "is_eager", False):
        return
    if task.name in (execute_task("user"), execute_task("admin")):
        key = (kwargs or {}).get("schema") or (args[0] if args else None)
    else:
        key = tenant_connections.MAINTENANCE
    _unit.stack = contextlib.ExitStack()
    _unit.stack.enter_context(tenant_connections.serving(key))


@task_postrun.connect
def _give_connection_back(task=None, **_) -> None:
    if task is None or getattr(task.request, "is_eager", False):
        return
    stack, _unit.stack = getattr(_unit, "stack", None), None
    if stack is not None:
        stack.close()


@worker_shutdown.connect
def _close_connections(**kwargs) -> None:
    tenant_connections.close()  # after the pool stopped: no task is running


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
    redelivered = bool((task.request.delivery_info or {}).get("redelivered"))
    # A copy of a redelivered message's record (`_split`) runs as a redelivered one (alone,
    # its attempts counted) but never takes a running record over, even when RabbitMQ
    # redelivers the copy too: copies may exist twice, and a record one of them left
    # running is the lease's and the sweep's to retry.
    take_over = False if facts.get("redelivered") else None  # None: when redelivered
    redelivered = redelivered or bool(facts.get("redelivered"))
    try:
        if redelivered and len(records) > 1:
            _split(task, channel, schema, records, slot)
            return "split"
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
                    take_over=take_over,
                    **one_known,
                )
            except Exception as exc:
                if dependency_lost(exc) is not None:
                    raise  # the message comes back redelivered, and is split then
                # Not the action's failure (that is the record's answer) but a bug around
                # it: the record is left as it would be in a message of its own, and the
                # message's other records still run.
                failed = failed or exc
        if failed is not None:
            raise failed
        return status
    except Exception as exc:
        lost = dependency_lost(exc)
        if lost is None and not isinstance(exc, outbox.PublishFailed):
            raise
        # The database (or broker) is briefly away: not the action's failure. The message
        # goes back to the queue (redelivered, so the record is taken over at once) once
        # the database answers again (or after DATABASE_WAIT_S), or after a pause for the
        # broker, rather than waiting for the record's lease and the sweep.
        from celery.exceptions import Reject

        drop_connection()
        lost = lost or "broker"  # PublishFailed: the split could not publish its copies
        back = False
        if lost == "database" and not STOPPING.is_set():
            log.warning("the database is away: waiting up to %.0f s to requeue", DATABASE_WAIT_S)
            back = database_back(DATABASE_WAIT_S, stop=STOPPING)
        if not back and not STOPPING.is_set():
            time.sleep(REQUEUE_PAUSE_S)
        raise Reject(f"{lost} unavailable; requeued", requeue=True) from exc


def _split(task, channel: str, schema: str, records: list, slot: bool) -> None:
    """A redelivered message of several records: its worker died (or lost a dependency)
    while running one of them, maybe a poison one. Each record goes on in a message of its
    own, flagged redelivered (it runs alone and its attempts count, docs/reliability.md),
    so that one record's crashes count only its own attempts and hold no other back; then
    this message is acknowledged. It takes the broker only, not the database (which may
    be what went away). A copy claims an `accepted` record (one claim wins) and never takes
    a running one over before its lease ends, so copies made twice (a split repeated after
    a crash, or after the broker confirmed part of it) are fenced as any duplicate is; a
    finished record's copy is skipped (freeing its slot if it still held one), and a
    record left `running` waits for its lease and the sweep."""
    log.warning("a redelivered message of %d records: each goes on alone", len(records))
    outbox.publish_apart(
        channel=channel,
        schema=schema,
        action=getattr(task.request, "action", None) or "",
        records=[(record_id, known.get("actor_id")) for record_id, known in records],
        slot=slot,
    )


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
