"""Steps 10-11 of the pipeline, on a worker: run the action inside its tenant's schema,
record the result, write the tenant action log line, reply to AMQP clients.

Tasks take a schema and a record id and re-read the record. A record runs once:
- a worker claims it (accepted -> running) under a row lock, with a lease of the
  action's `timeout_s` plus a grace; a second delivery while the lease runs is skipped;
- an atomic handler's writes and the record's result commit in one transaction, so a
  crash before that commit leaves nothing behind and the action may safely run again;
- a record whose lease ran out (its worker died, or its result could not be written)
  is published again by the outbox sweep and claimed anew, at most MAX_ATTEMPTS times;
- a running record whose message RabbitMQ redelivered (the worker holding it died or lost
  its broker connection) is taken over at once, not after its lease: the claim counts one
  more attempt, and `record_finish` only lets the attempt holding the claim commit (a
  fencing token), so an old holder still running rolls its writes back;
- after MAX_ATTEMPTS attempts (a poison message: each crashed its worker) the record
  answers `internal_error` and its message is parked in the channel's dead-letter queue
  (docs/reliability.md).

A first delivery (not redelivered, the sender named in the message) of an atomic action
takes the short way: the claim, the handler's writes and the result are one transaction,
in three round trips (BEGIN, search_path, the record locked and the access; the handler;
result and COMMIT). The claim is the row lock (`SELECT ... FOR UPDATE` of an `accepted`
record): the record goes from `accepted` to its outcome in one UPDATE, never written as
`running`. Holding the lock from the claim to the commit fences the record as the
attempt counter does: a duplicate delivery waits for the commit and finds the record
finished. A worker that dies meanwhile leaves the record `accepted`, its claim rolled back
with everything else; RabbitMQ redelivers the message and the redelivery takes the long
way, whose claims count the attempts (so a poison message costs one crash more).

A redelivered message runs alone in its worker process (one at a time, `_ALONE`): when a
poison message kills the process again, only its own attempt was counted, not those of
the messages that died beside it last time and came back with it.
"""

import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import quote_schema_name, schema_context
from pydantic import BaseModel, ValidationError

from actions import audit_trail as audit
from actions.connections import connection_ready, dependency_lost
from actions.contract.connectors import require_subscribed
from actions.contract.context import ActionContext
from actions.contract.errors import ActionError, ErrorCode, action_error_from
from actions.contract.redaction import redact_for
from actions.contract.registry import registry
from actions.delivery import deadletter, fairness
from actions.delivery.replies import reply
from actions.models import ActionRecord, RecordStatus
from actions.outcomes import reply_envelope
from actions.records import (
    LeaseLost,
    claim_statement,
    claimed_record,
    lease_expired_before,
    lock_statement,
    record_claim,
    record_finish,
    record_finish_accepted,
)
from config.db import ASYNC_COMMIT, execute_prepared_batch
from tenants.identity import Actor
from tenants.platform import slug_for_schema

log = logging.getLogger(__name__)
NOT_IMPLEMENTED = "to be implemented"
MAX_ATTEMPTS = 3


UNKNOWN = object()


def execute(
    *,
    channel: str,
    schema: str,
    record_id: str,
    worker: str,
    actor_id: Any = UNKNOWN,
    redelivered: bool = False,
    slot: bool = False,
    take_over: bool | None = None,
) -> str:
    """Run one record. Returns the record's status afterwards (or `skipped`, or
    `superseded` when another attempt took the record over while this one ran).

    `actor_id`, when the task message says who sent the record, lets the claim and the
    actor's access travel to the database together, in one round trip. `redelivered`
    (RabbitMQ's flag) lets a running record be taken over before its lease ends.
    A lost database raises (the task layer requeues the message). `slot`: the record
    holds its tenant's fair-scheduling slot (actions.delivery.fairness), freed once the
    record's outcome is committed. `take_over`: whether a running record may be taken over
    before its lease ends; by default when `redelivered` (False for a copy of a redelivered
    message's record, actions.worker.tasks)."""
    take_over = redelivered if take_over is None else take_over
    if redelivered:
        with _ALONE:
            return _execute(
                channel, schema, record_id, worker, actor_id, redelivered, slot, take_over
            )
    return _execute(channel, schema, record_id, worker, actor_id, redelivered, slot, take_over)


_ALONE = threading.Lock()


def _execute(channel, schema, record_id, worker, actor_id, redelivered, slot, take_over) -> str:
    connection_ready()  # a connection left broken (e.g. by a database restart) is dropped
    gave_up = False
    with schema_context(schema):
        first = None
        if actor_id is not UNKNOWN and not redelivered:
            first = _first_delivery(record_id, channel, worker, schema, actor_id)
        if isinstance(first, _Done):
            if first.superseded:
                return "superseded"
            record, ctx = first.record, first.ctx
        else:
            claimed = first or _claim_with_access(
                record_id, channel, worker, schema, actor_id, take_over
            )
            if claimed is None:
                if slot and _settled(record_id):  # a late copy of a finished record's task
                    fairness.release(channel, schema, record_id)
                return "skipped"
            record, access = claimed
            outcome = _execute_claimed(record, access, schema, record_id)
            if outcome is None:
                return "superseded"
            ctx, gave_up = outcome
        audit.action_log_write(tenant=ctx.tenant, record=record, roles=ctx.roles)
    if gave_up:  # its message goes to the dead-letter queue for an operator to look at
        deadletter.park(
            channel=channel,
            schema=schema,
            record=record,
            reason=f"gave up after {MAX_ATTEMPTS} attempts",
        )
    _reply_all(record, schema)  # first: the client waits for it, the slot does not
    if slot:  # the outcome is committed: the tenant may have its next action published
        fairness.release(channel, schema, record_id)
    return record.status


@dataclass
class _Done:
    """A first delivery ran to its outcome (or found another attempt holding the record)."""

    record: ActionRecord
    ctx: ActionContext
    superseded: bool = False


class _LongWay(Exception):
    """The first delivery's claim found nothing to take: roll back, look closer."""


def _first_delivery(record_id, channel, worker, schema, actor_id):
    """The short way (module docstring): a _Done; the record claimed and committed
    ((record, access)) when its action must not run in the claim's transaction (not
    atomic, or out of attempts); None when the claim found it not `accepted`."""
    from tenants.services import access_from_row, access_statement

    slug = _tenant_slug(schema)
    lock = lock_statement(schema=schema, record_id=record_id, channel=channel)
    access_sql = access_statement(user_id=actor_id, slug=slug, schema=schema)
    search_path, paths = _search_path()
    failure: BaseException | None = None
    try:
        with transaction.atomic():
            _, (row, _), (access_row, _) = execute_prepared_batch(
                [search_path, (*lock, "record_lock"), (*access_sql, "access_resolve")]
            )
            # django-tenants need not set it again for the handler's queries.
            connection.search_path_set_schemas = paths  # type: ignore[attr-defined]
            record = claimed_record(row)
            if record is None or record.actor_id != actor_id:
                raise _LongWay
            access = access_from_row(access_row, slug=access_sql[1]["slug"])
            spec = registry.get(record.action, record.version)
            if not _atomic(spec) or record.attempts >= MAX_ATTEMPTS:
                # The long way: a real claim, committed here (the lock is held).
                claimed = record_claim(
                    schema=schema, record_id=record_id, channel=channel, worker=worker
                )
                if claimed is None:
                    raise _LongWay
                return claimed, access
            # What the claim would have written, in memory: the outcome's UPDATE writes it.
            record.status, record.attempts = RecordStatus.RUNNING, record.attempts + 1
            record.started_at, record.executed_by = timezone.now(), worker
            started = time.monotonic()
            tenant, ctx = _context(spec, record, schema, access)
            try:
                _crash_if_told(record)
                result = _run(spec, record, ctx)
                _finish(record, spec, started, result=result, commit=True, worker=worker)
            except BaseException as exc:
                failure = exc
                raise
            return _Done(record, ctx)
    except _LongWay:
        return None
    except Exception as exc:
        if dependency_lost(exc):
            raise
        if failure is not exc:  # before the handler ran (nothing was written): the long way,
            # whose committed claim and lease retry it (and give up after MAX_ATTEMPTS)
            log.warning("record %s: the short way failed; taking the long way", record_id)
            return None
        assert record is not None  # the handler ran, so the claim had found it
        error = _error_for(exc, record, schema, tenant)
    # The handler failed: its writes were rolled back and the lock released; the record
    # is still `accepted`. Its error is written from there, in one statement.
    record.status = RecordStatus.ACCEPTED
    _finish(record, spec, started, error=error, worker=worker)
    if record.status == RecordStatus.ACCEPTED:  # another attempt took it meanwhile
        return _Done(record, ctx, superseded=True)
    return _Done(record, ctx)


_SET_SEARCH_PATH = "SELECT set_config('search_path', %s, false)"


def _search_path() -> tuple[tuple, list[str]]:
    """The statement setting the current tenant's search_path (django-tenants' list), for
    a batch; and the list, to tell django-tenants once the batch ran."""
    paths = connection._get_cursor_search_paths()  # type: ignore[attr-defined]
    return (_SET_SEARCH_PATH, [",".join(map(quote_schema_name, paths))], "search_path"), paths


def _atomic(spec) -> bool:
    return spec.handler is None or getattr(spec.handler, "atomic", True)


def _execute_claimed(record, access, schema: str, record_id: str):
    """The long way, for a claimed record: (the context, gave up) or None if superseded."""
    gave_up = False
    spec = registry.get(record.action, record.version)
    started = time.monotonic()
    # The tenant and the actor's roles are read once: for the handler's context, the
    # whitelabel text of an error and the audit hook alike.
    tenant, ctx = _context(spec, record, schema, access)
    if record.attempts > MAX_ATTEMPTS:
        error = ActionError(
            ErrorCode.INTERNAL_ERROR,
            f"Gave up after {MAX_ATTEMPTS} attempts; trace id {record.trace_id}.",
        )
        error.details = {"attempts": record.attempts - 1, "dead_lettered": True}
        _log_error(record, schema, error.code, error.message, exc_info=False)
        _finish(record, spec, started, error=error.as_error())
        gave_up = True
    else:
        try:
            _run_and_finish(spec, record, ctx, tenant, started)
        except LeaseLost:
            log.warning("record %s was taken over by a later attempt", record_id)
            return None
    return ctx, gave_up


def _settled(record_id) -> bool:
    """The record is finished, or gone: nothing of it is in flight any more."""
    return not ActionRecord.objects.filter(
        id=record_id, status__in=[RecordStatus.ACCEPTED, RecordStatus.RUNNING]
    ).exists()


def _claim_with_access(record_id, channel, worker, schema, actor_id, take_over=False):
    """(the claimed record, its actor's access now), or None when there is nothing to run.
    Roles are read again here: a grant may have expired or a role been revoked since the
    pipeline accepted the message."""
    from tenants.services import access_from_row, access_resolve, access_statement

    slug = _tenant_slug(schema)

    def with_access(record):  # the record's own actor, read after the claim
        return (
            None if record is None else (record, access_resolve(user_id=record.actor_id, slug=slug))
        )

    if actor_id is UNKNOWN:  # a message from before the outbox named the sender
        return with_access(_claim(record_id, channel=channel, worker=worker, take_over=take_over))
    claim = claim_statement(schema=schema, record_id=record_id, channel=channel, worker=worker)
    access = access_statement(user_id=actor_id, slug=slug, schema=schema)
    # The claim need not wait for its WAL flush: if the database crashes before the
    # handler's transaction commits, the claim is lost with it, the record is `accepted`
    # again and RabbitMQ (or the sweep) delivers it again; once that transaction commits,
    # its flush covers the claim too. One fsync per action instead of two.
    # The tenant's search_path goes first, as on the short way: the access statement's
    # plan is kept for it (config.db), and the handler's queries need not set it again.
    search_path, paths = _search_path()
    _, _, (claim_row, _), (access_row, _) = execute_prepared_batch(
        [ASYNC_COMMIT, search_path, (*claim, "record_claim"), (*access, "access_resolve")]
    )
    connection.search_path_set_schemas = paths  # type: ignore[attr-defined]
    record = claimed_record(claim_row)
    if record is None:  # running (a redelivery), finished, or another channel's
        return with_access(
            _claim_running(record_id, channel=channel, worker=worker, take_over=take_over)
        )
    if record.actor_id != actor_id:  # never, unless a task message lied: trust the record
        return with_access(record)
    return record, access_from_row(access_row, slug=access[1]["slug"])


def _context(spec, record: ActionRecord, schema: str, access):
    """(the Tenant or None for the platform, the handler's ActionContext)."""
    actor = None
    if record.actor_id is not None:
        actor = Actor(id=record.actor_id, email=record.actor_email)
    ctx = ActionContext(
        tenant=_tenant_slug(schema),
        schema=schema,
        actor=actor,
        message_id=str(record.id),
        action=spec.name,
        version=spec.version,
        channel=spec.channel.value,
        trace_id=record.trace_id,
        roles=access.roles,
        gateway=_gateway(spec, access.tenant),
    )
    ctx.gateway.ctx = ctx
    return access.tenant, ctx


def _gateway(spec, tenant):
    """The connectors as this handler may reach them (`ctx.connectors`): it may call only
    the connectors its action lists in the index."""
    from connectors.runtime import Gateway

    return Gateway(ctx=None, tenant=tenant, allowed=spec.connectors)


def _run_and_finish(spec, record: ActionRecord, ctx, tenant, started: float) -> None:
    schema = ctx.schema
    # An atomic handler's writes and the record's result commit together.
    atomic = spec.handler is None or getattr(spec.handler, "atomic", True)
    try:
        with transaction.atomic() if atomic else contextlib.nullcontext():
            _crash_if_told(record)
            result = _run(spec, record, ctx)
            _finish(record, spec, started, result=result)
        return
    except LeaseLost:
        raise  # rolled back: the attempt that took the record over answers
    except Exception as exc:
        if dependency_lost(exc):
            raise  # the database went away: not the action's failure; run it again later
        error = _error_for(exc, record, schema, tenant)
    # Writing the error may fail too (database gone): then the record stays running, its
    # lease runs out and the outbox sweep has it run again.
    _finish(record, spec, started, error=error)


def _error_for(exc: BaseException, record, schema: str, tenant) -> dict:
    """The error a failed handler answers, logged. Call from inside the `except`."""
    err = action_error_from(exc)
    if err is not None:  # expected: the action's own refusal or a service's
        error = err.as_error()
        # Every error a worker answers goes to the central error log (issue 4), expected
        # ones (not_found, conflict, not_implemented...) included, without a stack.
        _log_error(record, schema, err.code, err.message, exc_info=False)
    else:  # a bug in an action: never leak it, log it with its trace id
        _log_error(record, schema, ErrorCode.INTERNAL_ERROR, repr(exc), exc_info=True)
        error = ActionError(
            ErrorCode.INTERNAL_ERROR,
            f"The action failed unexpectedly; trace id {record.trace_id}.",
        ).as_error()
    from tenants.config import user_message

    error["user_message"] = user_message(tenant=tenant, code=error["code"]) or error["user_message"]
    return error


def _finish(record, spec, started: float, *, result=None, error=None, commit=False, worker=None):
    """Store the outcome. `commit`: with the claim's transaction's COMMIT, in one round
    trip. `worker`: the record is `accepted` in the database (a first delivery: locked,
    or its transaction rolled back): count the attempt and finish it in one statement;
    `record.status` stays as it was if another attempt has it."""
    status = RecordStatus.ERROR if error else RecordStatus.OK
    record.result, record.error = result, error
    record.finished_at = timezone.now()
    record.duration_ms = int((time.monotonic() - started) * 1000)
    record.payload = redact_for(spec, record.payload)  # secrets are not kept once used
    if worker is None:
        record.status = status
        record.reply_to = record_finish(schema=_schema(), record=record, commit=commit)
        return
    record.status, before = status, record.status
    if not record_finish_accepted(schema=_schema(), record=record, worker=worker, commit=commit):
        record.status = before  # another attempt has it (never while this one holds the lock)


def _schema() -> str:
    """The schema the executor switched to (django-tenants' connection attribute)."""
    return connection.schema_name  # type: ignore[attr-defined]


def _claim(record_id, *, channel, worker, take_over=False) -> ActionRecord | None:
    """Mark the record running; None when it is finished or its lease still runs.
    A fresh record takes one statement; a running one (redelivered) takes the slow path."""
    claimed = record_claim(schema=_schema(), record_id=record_id, channel=channel, worker=worker)
    return claimed or _claim_running(record_id, channel=channel, worker=worker, take_over=take_over)


def _claim_running(record_id, *, channel, worker, take_over=False) -> ActionRecord | None:
    """Claim a record that may be running. `take_over`: the message was redelivered by
    RabbitMQ, so whoever held it lost its broker connection (died, most likely): claim it
    now rather than after its lease; the attempt count fences the old holder off."""
    with transaction.atomic():
        record = (
            ActionRecord.objects.select_for_update()
            .filter(id=record_id, status__in=[RecordStatus.ACCEPTED, RecordStatus.RUNNING])
            .first()
        )
        if record is None:
            return None
        if record.channel != channel:
            # Routing makes this impossible; refuse rather than run on the wrong worker.
            log.error(
                "record %s of channel %s reached a %s worker", record_id, record.channel, channel
            )
            return None
        now = timezone.now()
        if record.status == RecordStatus.RUNNING and not take_over:
            spec = registry.get(record.action, record.version)
            if record.started_at and record.started_at > lease_expired_before(spec, now):
                return None  # another worker holds it: a duplicate delivery
        record.status = RecordStatus.RUNNING
        record.attempts += 1
        record.started_at = now
        record.executed_by = worker
        if record.published_at is None:
            record.published_at = now  # it reached us, so it was published
        record.save(
            update_fields=["status", "attempts", "started_at", "executed_by", "published_at"]
        )
    return record


def _run(spec, record: ActionRecord, ctx: ActionContext) -> dict:
    deadline_ms = (record.meta or {}).get("deadline_ms")
    if deadline_ms and (timezone.now() - record.created_at).total_seconds() * 1000 > deadline_ms:
        raise ActionError(ErrorCode.TIMEOUT, "The deadline passed before the action could run.")
    if spec.handler is None:  # a dummy
        raise ActionError(
            ErrorCode.NOT_IMPLEMENTED,
            NOT_IMPLEMENTED,
            details={"action": spec.name, "state": spec.state.value},
        )
    if not ctx.roles & set(spec.roles):
        # Roles are re-read here: a grant may have expired or a role been revoked since
        # the pipeline accepted the message.
        raise ActionError(ErrorCode.FORBIDDEN, f"Your roles do not allow {spec.name} (any more).")
    # Again here: a subscription may have ended while the message waited in the queue.
    require_subscribed(spec, ctx.gateway.tenant)
    payload = spec.input.model_validate(record.payload)
    # A handler marked `atomic = False` (see actions.contract.registry.non_atomic) commits what it
    # must keep even when it then fails, e.g. a failed sign-in that counts for throttling;
    # an atomic one runs inside the transaction that _run_and_finish opened.
    output = spec.handler(ctx, payload)
    try:
        model = output if isinstance(output, BaseModel) else spec.output.model_validate(output)
    except ValidationError as exc:
        raise RuntimeError(f"{spec.name} returned output that does not fit its schema") from exc
    return model.model_dump(mode="json")


def _crash_if_told(record: ActionRecord) -> None:
    """Fault injection for the reliability tests only (`SWITCHBOARD_TEST_CRASH_ON`, read by
    the local_test settings alone): a record whose payload's `surface` is that value kills
    its worker process, as a poison message would (tests/reliability)."""
    marker = settings.SWITCHBOARD.get("TEST_CRASH_ON")
    if marker and isinstance(record.payload, dict) and record.payload.get("surface") == marker:
        log.error("record %s: crashing this worker on purpose (fault test)", record.id)
        os.kill(os.getpid(), signal.SIGKILL)


def _tenant_slug(schema: str) -> str:
    return slug_for_schema(schema)


def _log_error(record, schema, code, message, *, exc_info) -> None:
    audit.error_record(
        # A connector's failure surfaces as connector_error: file it under the connector.
        component="connector" if code == ErrorCode.CONNECTOR_ERROR else "worker",
        trace_id=record.trace_id,
        code=code,
        message=message,
        tenant=_tenant_slug(schema),
        actor=record.actor_email or None,
        action=record.action,
        message_id=str(record.id),
        exc_info=exc_info,
    )


def _reply_all(record: ActionRecord, schema: str) -> None:
    if not record.reply_to:
        return
    tenant = _tenant_slug(schema)
    for reply_to, correlation_id in record.reply_to:
        reply(
            reply_to=reply_to,
            correlation_id=correlation_id,
            channel=record.channel,
            envelope=reply_envelope(
                record, tenant=tenant, correlation_id=correlation_id, schema=schema
            ),
        )
