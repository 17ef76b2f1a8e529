"""The action pipeline (ARCHITECTURE.md section 5), shared by both channels and both
transports. `submit` runs steps 1-9 at the edge; `actions.worker.executor` runs 10-11 on a worker.

Every failure becomes a response envelope with its code; nothing here raises to a
transport except bugs, which the transports turn into `internal_error`.
"""

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import OperationalError, transaction
from django_tenants.utils import schema_context
from pydantic import ValidationError

from actions import audit_trail as audit
from actions.connections import dependency_lost, drop_connection, tenant_connections
from actions.contract import envelope
from actions.contract.connectors import require_subscribed
from actions.contract.errors import ActionError, ErrorCode
from actions.contract.payloads import from_message
from actions.contract.registry import Channel, Scope, UnknownAction, registry
from actions.delivery import outbox
from actions.delivery.replies import is_direct_reply_to, is_reply_queue
from actions.edge import guard, ratelimit
from actions.models import ActionRecord
from actions.outcomes import Outcome, outcome_for
from actions.records import record_store
from release import runtime
from tenants import services as tenants
from tenants.config import user_message
from tenants.models import TENANT_SLUG_PATTERN
from tenants.platform import PLATFORM, schema_for_slug
from tenants.roles import TENANT_ROLES
from tenants.tokens import (
    InvalidToken,
    actor_from_authorization,
    check_live,
    claims_from_authorization,
    verifies,
)

log = logging.getLogger(__name__)


@dataclass
class Ingress:
    """One request as a transport received it."""

    channel: Channel
    body: bytes | str | dict
    authorization: str | None = None
    transport: str = "rest"  # rest | amqp
    source: str = ""  # client address (REST) or "amqp"
    reply_to: str | None = None
    correlation_id: str | None = None
    routing_key: str | None = None  # AMQP: must name the envelope's action


# Refusals that are security events (docs/security.md): logged with who, where and why.
SECURITY_CODES = frozenset(
    {
        ErrorCode.INVALID_ENVELOPE,
        ErrorCode.VALIDATION_ERROR,
        ErrorCode.REJECTED_INPUT,
        ErrorCode.RATE_LIMITED,
    }
)


def submit(ingress: Ingress) -> Outcome:
    """Steps 1-9 for one message. A dependency lost under it (a database restart breaks
    every pooled connection; the first query finds out) is tried once more on a fresh
    connection: storing is idempotent by id, the rest reads. Still down: `unavailable`."""
    for attempt in (1, 2):
        try:
            return _submit(ingress)
        except Exception as exc:
            dependency = dependency_lost(exc)
            if dependency is None:
                raise
            drop_connection()
            if attempt == 2:
                request, trace_id = envelope.peek(ingress.body), envelope.new_trace_id()
                return _refused(ingress, request, unavailable(dependency), trace_id, {})
    raise AssertionError("unreachable")


def unavailable(dependency: str) -> ActionError:
    """The answer while a dependency is down: retryable, 503, names the dependency."""
    return ActionError(
        ErrorCode.UNAVAILABLE,
        f"The {dependency} is briefly unavailable; send the same message again.",
        details={"dependency": dependency},
    )


def _submit(ingress: Ingress) -> Outcome:
    trace_id = envelope.new_trace_id()
    request: dict = {}
    seen: dict = {}  # what _accept learnt before refusing (the actor), for the security event
    if ingress.transport == "amqp" and not verifies(ingress.authorization):
        try:  # before anything is parsed: a flood of big anonymous bodies is refused cheaply
            size = len(ingress.body) if isinstance(ingress.body, (bytes, str)) else 0
            ratelimit.anonymous_amqp_admit(sender=sender_of(ingress), size=size)
        except ActionError as err:
            return _refused(ingress, {}, err, trace_id, seen)
    try:
        _check_size(ingress.body)
        request = envelope.parse_request(ingress.body)  # 1
        _check_amqp_properties(ingress, request)
        guard.inspect_envelope(request)
        # The tenant's statements on the connection that has served it (TenantConnections).
        with tenant_connections.serving(str(request.get("tenant") or "")):
            return _accept(ingress, request, trace_id, seen)
    except ActionError as err:
        return _refused(ingress, request or envelope.peek(ingress.body), err, trace_id, seen)


# Anonymous AMQP messages without a reply address cannot be told apart: they share one
# sender, so one refusal budget (without it, a flood of small hostile ones was never
# throttled; an anonymous sender that wants its own budget, and an answer, names a
# reply-to).
NO_REPLY_SENDER = "no-reply"


def sender_of(ingress: Ingress) -> str | None:
    """An AMQP message's sender as far as the ingress can tell: its reply address (direct
    reply-to: one per channel), or NO_REPLY_SENDER for an anonymous one with none; None
    over REST (the client address is the source there) and for a signed-in AMQP sender
    without a reply address (its actor is counted)."""
    if ingress.transport != "amqp":
        return None
    if not ingress.reply_to:
        return None if verifies(ingress.authorization) else NO_REPLY_SENDER
    return hashlib.sha256(ingress.reply_to.encode()).hexdigest()[:32]


def _refused(ingress: Ingress, request: dict, err: ActionError, trace_id: str, seen) -> Outcome:
    """The answer to a message refused at the edge, with its log lines and events."""
    spec = seen.get("spec")
    if err.code == ErrorCode.UNKNOWN_ACTION:  # e.g. the other channel's: none to name
        spec = None
    if spec is not None:  # the action was found: its version (the client may have left it out)
        request = {**request, "version": spec.version}
    actor = seen["actor"] if "actor" in seen else _actor_or_none(ingress)
    # The tenant's whitelabel text, once the tenant is known and the caller belongs.
    err.user_message = err.user_message or user_message(tenant=seen.get("tenant"), code=err.code)
    if err.code in SECURITY_CODES or getattr(err, "category", None):
        _security_event(ingress, request, err, actor)
    audit.error_record(
        component=f"gateway.{ingress.transport}",
        trace_id=trace_id,
        code=err.code,
        message=err.message,
        tenant=request.get("tenant"),
        actor=actor.email if actor else None,
        action=request.get("action"),
        message_id=request.get("id"),
        details=err.details,
    )
    # The tenant's action log and, for admin, the audit log: not for a signed-in caller
    # with no place on the tenant it named, whose messages would otherwise let anyone
    # signed in anywhere fill another tenant's log and the platform's append-only audit
    # chain (it is in the central error log above). Refused before its access was read
    # (an unknown action, a bad envelope), the caller's place is looked up here.
    if actor is not None and "member" not in seen:
        seen["member"] = _place_of(actor, request.get("tenant"))
    if actor is None or seen["member"]:
        audit.action_log_refusal(
            request=request,
            code=err.code,
            message=err.message,
            trace_id=trace_id,
            channel=str(ingress.channel),
            transport=ingress.transport,
            actor=actor.email if actor else None,
        )
    state = spec.state.value if spec is not None else None
    return Outcome(
        envelope.error_response(request, err, trace_id=trace_id, state=state), err.status
    )


def _has_place(roles, slug: str | None) -> bool:
    """Whether a signed-in caller has a place on the tenant it named: a role there (a
    membership, a developer's, a super admin's grant), or the platform (every account)."""
    return slug is None or bool(set(roles) - {"anonymous", "authenticated"})


def _place_of(actor, tenant) -> bool:
    """`_has_place` for a caller refused before its access was read."""
    if tenant == PLATFORM:
        return True
    if not isinstance(tenant, str) or not re.fullmatch(TENANT_SLUG_PATTERN, tenant):
        return False  # no tenant's log to write to anyway
    try:
        access = tenants.access_resolve(user_id=actor.id, slug=tenant, token_id=actor.token_id)
    except Exception:  # the refusal must reach its client; the central log has it
        log.warning("could not read the access of a refused message", exc_info=True)
        return False
    return _has_place(access.roles, tenant)


def _not_released(name: str, version: int) -> ActionError:
    return ActionError(
        ErrorCode.NOT_RELEASED, f"{name} v{version} is not released in {settings.SWITCHBOARD_ENV}."
    )


def _check_amqp_properties(ingress: Ingress, request: dict) -> None:
    if ingress.reply_to is not None and not is_reply_queue(ingress.reply_to):
        raise ActionError(
            ErrorCode.INVALID_ENVELOPE,
            "reply_to must be direct reply-to (amq.rabbitmq.reply-to).",
            details={"path": "reply_to"},
        )
    if (
        ingress.transport == "amqp"
        and ingress.reply_to is not None
        and not is_direct_reply_to(ingress.reply_to)
    ):
        # A broker-named queue, but nothing proves it is the sender's: replies to outside
        # clients go only to direct reply-to, which the broker binds to the sending channel.
        err = ActionError(
            ErrorCode.FORBIDDEN,
            "reply_to may not name a queue: use direct reply-to (amq.rabbitmq.reply-to), "
            "the only reply address the broker binds to the sender.",
            details={"path": "reply_to"},
        )
        err.category = "foreign_reply_to"  # type: ignore[attr-defined]  # a security event
        raise err
    if ingress.routing_key is not None and ingress.routing_key != request["action"]:
        raise ActionError(
            ErrorCode.INVALID_ENVELOPE,
            "The routing key must be the envelope's action name.",
            details={"path": "routing_key"},
        )


def _check_size(body) -> None:
    """Every transport: the same bound as REST's (which answers 413 before reading)."""
    limit = settings.SWITCHBOARD["MAX_BODY_BYTES"]
    if isinstance(body, (bytes, str)) and len(body) > limit:
        raise ActionError(
            ErrorCode.INVALID_ENVELOPE,
            f"The body is larger than {limit} bytes.",
            http_status=413,
            details={"limit_bytes": limit},
        )


def _actor_or_none(ingress: Ingress):
    """Who sent a message refused before authentication, for the logs (None if unknown)."""
    try:
        return actor_from_authorization(ingress.authorization)
    except Exception:
        return None


def _security_event(ingress: Ingress, request: dict, err: ActionError, actor) -> None:
    """Never the value: the category, the field path and who sent it from where."""
    details = err.details or {}
    path = details.get("path")
    if path is None and details.get("errors"):
        path = details["errors"][0].get("path")
    audit.security_event(
        category=getattr(err, "category", None) or details.get("category") or str(err.code),
        path=path,
        tenant=request.get("tenant"),
        actor=actor.email if actor else None,
        action=request.get("action"),
        source=ingress.source or ingress.transport,
        code=str(err.code),
    )
    ratelimit.count_refusal(
        code=err.code, actor=actor, source=ingress.source, sender=sender_of(ingress)
    )


def _accept(ingress: Ingress, request: dict, trace_id: str, seen: dict) -> Outcome:
    try:  # 2: the token's signature and expiry; whether its user is live comes with step 3
        claims = claims_from_authorization(ingress.authorization)
    except InvalidToken as exc:
        raise ActionError(ErrorCode.UNAUTHENTICATED, str(exc)) from None

    try:  # 4 (first: the scope says which tenant to look up)
        spec = registry.get(request["action"], request.get("version"))
    except UnknownAction:
        if runtime.withheld(request["action"]):  # a built artifact left it out
            raise _not_released(request["action"], request.get("version") or 1) from None
        if claims is not None:  # a dead token is refused as such, whatever it asks for
            seen["actor"] = _live_actor(claims)
        raise
    request = {**request, "version": spec.version}
    seen["spec"] = spec  # a refusal from here on names the version and state it resolved
    try:
        slug = _tenant_slug(spec, request["tenant"])
        misaddressed = None
    except ActionError as err:  # answered once the caller is known
        slug, misaddressed = None, err

    # 2 + 3 in one round trip: the token's user, the tenant and the user's roles there.
    access = tenants.access_resolve(
        user_id=int(claims["sub"]) if claims else None,
        slug=slug,
        token_id=claims["jti"] if claims else "",
    )
    actor = None
    if claims is not None:
        try:
            check_live(claims, access.user)
        except InvalidToken as exc:
            raise ActionError(ErrorCode.UNAUTHENTICATED, str(exc)) from None
        actor = access.actor(claims["jti"])
    seen["actor"] = actor
    if misaddressed is None:
        seen["member"] = _has_place(access.roles, slug)
    elif actor is not None:  # a platform action sent to a tenant (or the reverse)
        seen["member"] = _place_of(actor, request.get("tenant"))

    if spec.channel != ingress.channel:
        raise ActionError(
            ErrorCode.UNKNOWN_ACTION,
            f"{spec.name} is an action of the {spec.channel} channel, not the "
            f"{ingress.channel} channel.",
        )
    if misaddressed is not None:
        raise misaddressed
    tenant, schema = None, schema_for_slug(PLATFORM)
    if slug is not None:
        tenant = access.tenant
        if tenant is None:
            # Same answer as for a tenant one is not a member of: no probing for tenant names.
            raise ActionError(ErrorCode.FORBIDDEN, f"No access to tenant {slug!r}.")
        schema = tenant.schema_name
    roles = access.roles
    public = "anonymous" in spec.roles
    if not public and actor is None:
        if spec.channel == Channel.ADMIN:
            # Admin functions answer `forbidden` to everyone who is not an owner of the
            # tenant, anonymous callers included (issue 3's role matrix).
            raise ActionError(ErrorCode.FORBIDDEN, "Admin actions need an owner's token.")
        raise ActionError(ErrorCode.UNAUTHENTICATED, "This action needs a bearer token.")
    admitted = roles & ((TENANT_ROLES | set(spec.roles)) - {"anonymous"})
    # A credential is good only on the tenants its holder belongs to, public actions
    # included: a member of B gets nothing from A, whatever the action.
    if not admitted and (not public or (actor is not None and tenant is not None)):
        raise ActionError(ErrorCode.FORBIDDEN, f"No access to tenant {request['tenant']!r}.")
    if admitted:
        seen["tenant"] = tenant  # the caller belongs: its refusals speak the tenant's words
    if not roles & set(spec.roles):  # 7, before the payload is read: a refusal tells nothing
        raise ActionError(
            ErrorCode.FORBIDDEN, f"Your roles on {request['tenant']} do not allow {spec.name}."
        )
    if not runtime.is_released(spec):  # the running environment's manifest
        raise _not_released(spec.name, spec.version)
    # The connectors it needs: answered here, before the record is stored, from the Tenant
    # row the access statement brought (no query); the worker checks again.
    require_subscribed(spec, tenant)

    # A sender whose messages were refused too often is refused before steps 5-6 cost anything.
    ratelimit.refusal_budget(actor=actor, source=ingress.source, sender=sender_of(ingress))
    try:  # 5
        payload = from_message(spec.input, request["payload"])
    except ValidationError as exc:
        raise ActionError(
            ErrorCode.VALIDATION_ERROR,
            "The payload does not fit the action's input schema.",
            details={"errors": _validation_errors(exc)},
        ) from None
    guard.inspect(spec, request["payload"])  # 6 (7, the role, was checked above)
    ratelimit.check(  # 8
        tenant=tenant,
        tenant_slug=request["tenant"],
        actor=actor,
        source=ingress.source,
        anonymous=actor is None,
        sender=sender_of(ingress),
    )
    record, created, targeted = _store(ingress, request, spec, schema, actor, payload, trace_id)
    if created:
        outbox.publish(schema=schema, record=record)
    outcome = outcome_for(record, request, schema=schema)
    outcome.unanswered = not outcome.finished and not targeted
    return outcome


def _tenant_slug(spec, slug: str) -> str | None:
    """The tenant the message acts on; None for the platform."""
    if spec.scope == Scope.ACCOUNT and slug == PLATFORM:
        return None
    if spec.scope == Scope.PLATFORM:
        if slug != PLATFORM:
            raise ActionError(
                ErrorCode.VALIDATION_ERROR,
                f"{spec.name} is platform-scoped: send it with tenant `platform`.",
                details={"errors": [{"path": "tenant", "reason": "must be `platform`"}]},
            )
        return None
    return slug


def _live_actor(claims: dict):
    access = tenants.access_resolve(user_id=int(claims["sub"]), slug=None, token_id=claims["jti"])
    try:
        check_live(claims, access.user)
    except InvalidToken as exc:
        raise ActionError(ErrorCode.UNAUTHENTICATED, str(exc)) from None
    return access.actor(claims["jti"])


def _shown(segment: str) -> str:
    """A path segment, or `(key)` when a client's key is not a plain name (no echo)."""
    return segment if re.fullmatch(r"[A-Za-z0-9_.\[\]-]{1,64}", segment) else "(key)"


def _validation_errors(exc: ValidationError) -> list[dict]:
    """Pydantic's errors without the offending input (never echo what a client sent)."""
    errors = []
    for error in exc.errors(include_input=False, include_url=False)[:20]:
        path = "/".join(_shown(str(p)) for p in ("payload", *error["loc"]))
        errors.append({"path": path, "reason": error["msg"]})
    return errors


def payload_hash(action: str, version: int, actor_id, payload: dict) -> str:
    material = json.dumps([action, version, actor_id, payload], sort_keys=True, default=str)
    return hmac.new(settings.SECRET_KEY.encode(), material.encode(), hashlib.sha256).hexdigest()


def _store(ingress, request, spec, schema, actor, payload, trace_id):
    """Persist the record (the outbox) or find the one this id already made: (the record,
    whether this request made it, whether its worker will reply to this request if it
    wants a reply)."""
    digest = payload_hash(spec.name, spec.version, actor and actor.id, request["payload"])
    reply = [[ingress.reply_to, ingress.correlation_id]] if ingress.reply_to else []
    record = record_store(
        schema=schema,
        id=request["id"],
        action=spec.name,
        version=spec.version,
        channel=spec.channel.value,
        transport=ingress.transport,
        actor_id=actor and actor.id,
        actor_email=actor.email if actor else "",
        payload=payload.model_dump(mode="json"),
        payload_hash=digest,
        meta=request.get("meta") or {},
        trace_id=trace_id,
        reply_to=reply,
    )
    if record is not None:
        return record, True, True
    with schema_context(schema):  # the id was used before: the same message, or a conflict
        try:
            with transaction.atomic():
                # NOWAIT: a worker running the action holds its row until the outcome
                # commits (actions.worker.executor); this request does not wait for that.
                record = ActionRecord.objects.select_for_update(nowait=True).get(id=request["id"])
                _same_message(record, spec, digest, request["id"])
                if reply and not record.finished:
                    # Answer this request too when the action completes.
                    record.reply_to = [*record.reply_to, *reply]
                    record.save(update_fields=["reply_to"])
                return record, False, True
        except OperationalError as exc:
            if not isinstance(exc.__cause__, psycopg.errors.LockNotAvailable):
                raise
        # Running now: read without the lock. No reply target is added (`unanswered`): a
        # waiting REST client reads the record when its wait ends (actions.edge.gateway),
        # the AMQP ingress answers once the record is finished (actions.edge.ingress).
        record = ActionRecord.objects.get(id=request["id"])
        _same_message(record, spec, digest, request["id"])
        return record, False, not reply


def _same_message(record, spec, digest: str, message_id) -> None:
    if (record.action, record.version, record.payload_hash) != (spec.name, spec.version, digest):
        raise ActionError(
            ErrorCode.CONFLICT,
            "This id was already used for a different message.",
            details={"id": message_id},
        )


def unhandled(component: str, request: dict) -> dict:
    """The envelope for a bug a transport caught: logged with its stack under a trace id
    that the answer names, never the stack itself. Call from inside the `except`. A lost
    dependency (database, broker) is not a bug: `unavailable` (503, retryable)."""
    import sys

    dependency = dependency_lost(sys.exc_info()[1])
    if dependency is not None:
        if dependency == "database":
            drop_connection()
        err, trace_id = unavailable(dependency), envelope.new_trace_id()
        audit.error_record(
            component=component,
            trace_id=trace_id,
            code=err.code,
            message=err.message,
            details=err.details,
        )
        return envelope.error_response(request, err, trace_id=trace_id)
    trace_id = envelope.new_trace_id()
    audit.error_record(
        component=component,
        trace_id=trace_id,
        code=ErrorCode.INTERNAL_ERROR,
        message="unhandled error",
        exc_info=True,
    )
    err = ActionError(ErrorCode.INTERNAL_ERROR, f"Internal error; trace id {trace_id}.")
    return envelope.error_response(request, err, trace_id=trace_id)
