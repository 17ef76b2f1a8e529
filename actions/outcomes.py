"""What a record stands for as an answer: the response envelope of a finished, failed or
pending action, and its HTTP status. Used by the edge (the first answer, polls, a reread
after `?wait`) and by the worker (replies), so it belongs to neither."""

from dataclasses import dataclass

from actions.contract import envelope
from actions.contract.errors import http_status_for
from actions.contract.registry import Channel, registry
from actions.models import ActionRecord


@dataclass
class Outcome:
    envelope: dict
    http_status: int
    record: ActionRecord | None = None
    schema: str | None = None
    finished: bool = True
    # Not finished, and its worker will not reply to this request: a repeat of a message
    # whose action was running (its record locked), so no reply target could be added.
    unanswered: bool = False


def outcome_for(record: ActionRecord, request: dict, *, schema: str) -> Outcome:
    """The response envelope a record stands for now."""
    spec = registry.get(record.action, record.version)
    request = {**request, "id": str(record.id), "action": record.action, "version": record.version}
    own = (record.meta or {}).get("correlation_id")
    if own and not (request.get("meta") or {}).get("correlation_id"):
        # The request envelope's own correlation id, echoed to whoever reads the record
        # (a poll, a reread, a worker's reply) as the first answer echoed it.
        request["meta"] = {**(request.get("meta") or {}), "correlation_id": own}
    state = spec.state.value
    if record.finished:
        env = envelope.response(
            request,
            status=str(record.status),  # ok | error: the envelope keeps the one that fits
            result=record.result,
            error=record.error,
            trace_id=record.trace_id,
            state=state,
            duration_ms=record.duration_ms,
        )
        return Outcome(env, http_status_of(env), record, schema)
    location = f"{_poll_path(record.channel)}{record.id}?tenant={request['tenant']}"
    env = envelope.response(
        request,
        status="pending",
        trace_id=record.trace_id,
        state=state,
        extra_meta={"location": location},
    )
    return Outcome(env, 202, record, schema, finished=False)


def reply_envelope(
    record: ActionRecord, *, tenant: str, correlation_id: str | None, schema: str
) -> dict:
    """The envelope a finished record's reply carries to one of its targets (the worker's
    replies, the AMQP ingress's late ones). Its `meta.correlation_id` is the request
    envelope's own, if it had one, else the message's AMQP property, which also travels
    as the reply's property."""
    request: dict = {"tenant": tenant}
    echoed = (record.meta or {}).get("correlation_id") or correlation_id
    if echoed:
        request["meta"] = {"correlation_id": echoed}
    return outcome_for(record, request, schema=schema).envelope


def http_status_of(env: dict) -> int:
    """The HTTP status a finished response envelope is answered with."""
    if env["status"] == "ok":
        return 200
    if env["status"] == "pending":
        return 202
    return http_status_for(env["error"]["code"])


def _poll_path(channel: str) -> str:
    return "/api/v1/admin/actions/" if channel == Channel.ADMIN else "/api/v1/actions/"
