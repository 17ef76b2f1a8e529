"""Celery entry points of the audit package: log rotation (beat, at midnight) and the
central error log entry for any task that fails outside the action pipeline."""

from celery import shared_task
from celery.signals import task_failure

from audit import rotation
from audit.error_log import error_record


@shared_task(name="switchboard.maintenance.logs_rotate")
def logs_rotate() -> dict:
    return rotation.logs_rotate()


@task_failure.connect
def _task_failed(sender=None, task_id=None, exception=None, **_):
    """Every task that raises (beat's maintenance jobs, a crashed executor) is logged.

    Runs inside the worker's exception handling, so the stack is the task's.
    """
    name = getattr(sender, "name", "") or ""
    error_record(
        component="beat" if name.startswith("switchboard.maintenance.") else "worker",
        trace_id=str(task_id or ""),
        code="internal_error",
        message=f"task {name} failed: {exception!r}",
        action=name or None,
        exception=exception,
    )
