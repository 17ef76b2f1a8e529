"""REST transport: what the REST views (actions/edge/rest.py, Django REST framework) and
the ASGI fast route (actions/edge/asgi.py) share. Every answer is a response envelope:
`post_action` runs one envelope through the pipeline (waiting for its answer without a
thread), `record_envelope` reads a record back, `error_envelope` answers a refusal.
"""

import asyncio
import re
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django_tenants.utils import schema_context

from actions import audit_trail as audit
from actions.connections import tenant_connections
from actions.contract import envelope
from actions.contract.errors import ActionError, ErrorCode, http_status_for
from actions.contract.redaction import redact_for
from actions.contract.registry import Channel, registry
from actions.delivery import outbox
from actions.edge.fairgate import Backpressure, FairGate, named_schema, turn_key
from actions.edge.pipeline import Ingress, submit, unhandled
from actions.edge.waiters import waiters
from actions.models import ActionRecord
from actions.outcomes import http_status_of, outcome_for
from tenants import services as tenants
from tenants.models import TENANT_SLUG_PATTERN
from tenants.platform import PLATFORM, schema_for_slug
from tenants.tokens import InvalidToken, actor_from_authorization


def envelope_headers(env: dict, status: int) -> dict[str, str]:
    """The HTTP headers an answer carries besides its JSON body."""
    headers = {}
    location = (env.get("meta") or {}).get("location")
    if status == 202 and location:
        headers["Location"] = location
    retry_after = ((env.get("error") or {}).get("details") or {}).get("retry_after_s")
    if status == 429 and retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status == 503:  # `unavailable`: a dependency is briefly down
        headers["Retry-After"] = "1"
    return headers


def _envelope_response(env: dict, status: int) -> JsonResponse:
    response = JsonResponse(env, status=status)
    for name, value in envelope_headers(env, status).items():
        response[name] = value
    return response


def error_envelope(request_fields: dict, err: ActionError, component: str) -> dict:
    trace_id = envelope.new_trace_id()
    audit.error_record(
        component=component,
        trace_id=trace_id,
        code=err.code,
        message=err.message,
        tenant=request_fields.get("tenant"),
        message_id=request_fields.get("id"),
    )
    return envelope.error_response(request_fields, err, trace_id=trace_id)


def _error(request_fields: dict, err: ActionError, component: str) -> JsonResponse:
    return _envelope_response(error_envelope(request_fields, err, component), err.status)


def wait_seconds(raw: str | None) -> float:
    if raw is None:
        return 0.0
    try:
        wait = float(raw)
    except ValueError:
        raise ActionError(
            ErrorCode.INVALID_ENVELOPE,
            "`wait` must be a number of seconds.",
            details={"path": "?wait"},
        ) from None
    if not 0 <= wait <= settings.SWITCHBOARD["MAX_WAIT_SECONDS"]:
        raise ActionError(
            ErrorCode.INVALID_ENVELOPE,
            f"`wait` must be between 0 and {settings.SWITCHBOARD['MAX_WAIT_SECONDS']} seconds.",
            details={"path": "?wait"},
        )
    return wait


def too_large() -> ActionError:
    limit = settings.SWITCHBOARD["MAX_BODY_BYTES"]
    return ActionError(
        ErrorCode.INVALID_ENVELOPE,
        f"The body is larger than {limit} bytes.",
        http_status=413,
        details={"limit_bytes": limit},
    )


def read_body(request: HttpRequest) -> bytes:
    limit = settings.SWITCHBOARD["MAX_BODY_BYTES"]
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large()
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_large()
    return body


async def post_action(
    channel: Channel, *, body: bytes, wait: float, authorization: str | None, source: str
) -> tuple[dict, int]:
    """One POSTed envelope through the pipeline: (the response envelope, its HTTP status).
    With `wait`, the answer once the action finished, or pending when `wait` ran out."""
    ingress = Ingress(
        channel=channel,
        body=body,
        authorization=authorization,
        transport="rest",
        source=source,
    )
    if wait <= 0:
        outcome = await _submit_in_turn(ingress)
        return outcome.envelope, outcome.http_status
    replies = waiters()
    ingress.reply_to = replies.ready_queue or await in_thread(replies.queue)
    if ingress.reply_to is None:  # no broker: the outbox keeps the record, the client polls
        outcome = await _submit_in_turn(ingress)
        return outcome.envelope, outcome.http_status
    ingress.correlation_id, answer = replies.register()
    try:
        outcome = await _submit_in_turn(ingress)
        if outcome.finished:
            return outcome.envelope, outcome.http_status
        if outcome.unanswered:  # a repeat of a running action: no reply will come here
            outcome = await _reread_until_finished(outcome, wait)
            return outcome.envelope, outcome.http_status
        try:
            env = await asyncio.wait_for(answer, timeout=wait)
        except TimeoutError:
            env = None
        if env is None or env.get("id") != str(outcome.record.id):
            # No reply in time (the reply queue may have been lost), or a reply that is not
            # this record's: the record has the truth.
            outcome = await in_thread(_reread, outcome)
            return outcome.envelope, outcome.http_status
    finally:
        replies.discard(ingress.correlation_id)
    # The reply names our internal correlation id: the client sees its own, if any.
    env["meta"].pop("correlation_id", None)
    if outcome.envelope["meta"].get("correlation_id"):
        env["meta"]["correlation_id"] = outcome.envelope["meta"]["correlation_id"]
    return env, http_status_of(env)


REREAD_EVERY_S = 0.1


async def _reread_until_finished(outcome, wait: float):
    """The record read every REREAD_EVERY_S until it is finished or `wait` runs out: for a
    repeat sent while its action ran (the worker held the record: no reply target could
    join it), which would otherwise wait out its whole `wait`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not outcome.finished and loop.time() < deadline:
        await asyncio.sleep(min(REREAD_EVERY_S, max(0.0, deadline - loop.time())))
        outcome = await in_thread(_reread, outcome)
    return outcome


_gates: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FairGate]" = (
    weakref.WeakKeyDictionary()
)
_pressures: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Backpressure]" = (
    weakref.WeakKeyDictionary()
)


async def _submit_in_turn(ingress: Ingress):
    """`submit` on the pool, when this sender's turn comes (actions.edge.fairgate), and
    not before the tenant's backlog here leaves room (fairgate.Backpressure)."""
    loop = asyncio.get_running_loop()
    limit = settings.SWITCHBOARD["EDGE_BACKLOG_LIMIT"]
    if limit > 0 and outbox.deepest_backlog(ingress.channel) > limit:
        schema = named_schema(ingress.body)
        if schema is not None:
            pressure = _pressures.get(loop)
            if pressure is None:
                pressure = _pressures[loop] = Backpressure(outbox.held_back, limit=limit)
            await pressure.admit(ingress.channel, schema)
    if settings.SWITCHBOARD["EDGE_PIPELINE_TURNS"] <= 0:  # 0: no turns
        return await in_thread(submit, ingress)
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = FairGate(settings.SWITCHBOARD["EDGE_PIPELINE_TURNS"])
    async with gate.turn(turn_key(ingress.authorization, ingress.source)):
        return await in_thread(submit, ingress)


# The edge's blocking work (the ORM, the broker) runs here, off the event loop. A plain
# executor rather than asgiref's sync_to_async: the pipeline needs none of its context
# copying, which cost more CPU than the hand-over itself. Its threads live as long as the
# process; the database connections they use are the process's, kept across requests and
# handed out by tenant (actions.connections.TenantConnections).
EDGE_THREADS = 8
_pool = ThreadPoolExecutor(max_workers=EDGE_THREADS, thread_name_prefix="edge")


def in_thread(func, *args):
    """Run `func(*args)` on the edge's pool; await the result."""
    return asyncio.get_running_loop().run_in_executor(_pool, _run_ready, func, args)


def _run_ready(func, args):
    with tenant_connections.serving():  # a connection of the pool (checked), by tenant
        return func(*args)


def _reread(outcome):
    request = {k: outcome.envelope.get(k) for k in ("id", "action", "version", "tenant")}
    request["meta"] = {"correlation_id": outcome.envelope["meta"].get("correlation_id")}
    with schema_context(outcome.schema):
        record = ActionRecord.objects.get(id=outcome.record.id)
    return outcome_for(record, request, schema=outcome.schema)


def record_envelope(
    *, authorization: str | None, slug: str, record_id: str, channel: Channel
) -> tuple[dict, int]:
    """The current response envelope of a record, for its sender: (envelope, status)."""
    if not re.fullmatch(TENANT_SLUG_PATTERN.strip("^$"), slug) and slug != PLATFORM:
        err = ActionError(
            ErrorCode.INVALID_ENVELOPE,
            "`?tenant=` must be a tenant slug.",
            details={"path": "?tenant"},
        )
        return error_envelope({"id": record_id}, err, "gateway.rest"), err.status
    fields = {"id": record_id, "tenant": slug}
    try:
        try:
            actor = actor_from_authorization(authorization)
        except InvalidToken as exc:
            raise ActionError(ErrorCode.UNAUTHENTICATED, str(exc)) from None
        schema = _schema_for(slug, actor)
        with schema_context(schema):
            record = ActionRecord.objects.filter(id=record_id, channel=channel.value).first()
        # Only the actor who sent it may read a record; an anonymous action's record is
        # readable, secrets redacted, by whoever holds its id.
        if record is None or (
            record.actor_id is not None and (actor is None or record.actor_id != actor.id)
        ):
            raise ActionError(ErrorCode.NOT_FOUND, "No such action message.")
    except ActionError as err:
        return error_envelope(fields, err, "gateway.rest"), err.status
    outcome = outcome_for(record, {"tenant": slug}, schema=schema)
    if record.actor_id is None and outcome.envelope["result"] is not None:
        # Knowing an anonymous message's id is no proof of who sent it: its secrets (the
        # tokens of auth.login) are only answered to a repeat of the whole message.
        spec = registry.get(record.action, record.version)
        outcome.envelope["result"] = redact_for(spec, outcome.envelope["result"])
    return outcome.envelope, outcome.http_status


def _schema_for(slug: str, actor) -> str:
    if slug == PLATFORM:
        return schema_for_slug(slug)
    tenant = tenants.tenant_get(slug=slug) if slug else None
    if tenant is None:
        raise ActionError(ErrorCode.NOT_FOUND, "No such action message.")
    return tenant.schema_name


def not_found(request, exception=None):
    # The path is not echoed: it is whatever the client sent.
    err = ActionError(ErrorCode.NOT_FOUND, "No endpoint at this path; see GET /api/v1/index.")
    return _error({}, err, "gateway.rest")


def server_error(request):
    env = unhandled("gateway.rest", {})  # 500, or 503 for a lost dependency
    return _envelope_response(env, http_status_for(env["error"]["code"]))


def bad_request(request, exception=None):
    return _error({}, ActionError(ErrorCode.INVALID_ENVELOPE, "Bad request."), "gateway.rest")
