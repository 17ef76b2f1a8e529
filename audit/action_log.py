"""The tenant action logs: every action message of a tenant, one JSON line each in
`<logs>/tenants/<slug>/actions.jsonl` (`platform` for platform-scoped actions).

This package is a sink: it knows no action index and no tenant. The caller (the action
pipeline, see actions/audit_trail.py) passes what only it knows: which log the line goes
to, which tenant an admin audit entry names, how to summarise a payload without its
secrets, and the super-admin grant the actor acted under.
"""

import logging
from collections.abc import Callable
from typing import Any

from audit.admin_log import admin_audit_write_safely
from audit.files import bounded, now_iso, safe_append, tenant_log_path
from audit.summaries import scrub_text, shape

action_log = logging.getLogger("switchboard.actions")
log = logging.getLogger(__name__)

Summarize = Callable[[Any], Any]


def action_log_write(
    *,
    log_slug: str,
    tenant: str | None,
    record,
    summarize: Summarize = shape,
    grant_id: str | None = None,
    grant_reason: str | None = None,
) -> None:
    """One line in the log `log_slug` for a finished action record.

    A record of the admin channel is also written to the admin audit log (naming
    `tenant`, None for the platform), so that every admin-channel command is there
    whichever worker ran it; so is a record of either channel whose actor ran it as super
    admin, under the grant `grant_id` (marked `as_super_admin`, with the grant's reason).
    `record` is read by attribute (an actions.models.ActionRecord).
    """
    error = record.error or {}
    entry = {
        "at": now_iso(record.finished_at),
        "message_id": str(record.id),
        "action": record.action,
        "version": record.version,
        "channel": record.channel,
        "transport": record.transport,
        "actor": record.actor_email or None,
        "status": record.status,
        "code": error.get("code"),
        "duration_ms": record.duration_ms,
        "trace_id": record.trace_id,
        "request": summarize(record.payload),
        "response": (
            summarize(record.result)
            if record.status == "ok"
            else {"code": error.get("code"), "message": scrub_text(error.get("message"), 500)}
        ),
    }
    _write_tenant_line(log_slug, entry)
    if record.channel == "admin" or grant_id is not None:
        admin_audit_write_safely(
            actor=record.actor_email or None,
            tenant=tenant,
            action=record.action,
            version=record.version,
            outcome=record.status,
            code=error.get("code"),
            payload_summary=entry["request"],
            message_id=str(record.id),
            channel=record.channel,
            as_super_admin=grant_id is not None,
            grant_id=grant_id,
            reason=grant_reason,
        )


def action_log_refusal(
    *,
    request: dict,
    code: str,
    message: str,
    trace_id: str,
    channel: str,
    transport: str,
    log_slug: str | None,
    tenant: str | None,
    actor: str | None = None,
    summarize: Summarize = shape,
) -> None:
    """A message refused at the edge (before a record exists): one line in the log
    `log_slug` (None: the message named no tenant that exists, so no line); an
    admin-channel refusal of an authenticated actor is also audited, naming `tenant`
    (None for the platform). Never raises: the refusal must reach its client."""
    try:
        _action_log_refusal(
            request, code, message, trace_id, channel, transport, log_slug, tenant, actor, summarize
        )
    except Exception:
        log.exception("could not log the refusal of trace %s", trace_id)


def _action_log_refusal(
    request, code, message, trace_id, channel, transport, log_slug, tenant, actor, summarize
) -> None:
    action = request.get("action") if isinstance(request.get("action"), str) else None
    version = request.get("version") if isinstance(request.get("version"), int) else None
    payload = request.get("payload")
    summary = summarize(payload) if isinstance(payload, dict) else None
    if log_slug is None:
        return
    _write_tenant_line(
        log_slug,
        {
            "at": now_iso(),
            "message_id": bounded(request.get("id"), 64),
            "action": bounded(action),
            "version": version,
            "channel": channel,
            "transport": transport,
            "actor": actor,
            "status": "error",
            "code": str(code),
            "duration_ms": 0,
            "trace_id": trace_id,
            "request": summary,
            "response": {"code": str(code), "message": scrub_text(message, 500)},
        },
    )
    # Audited only when someone known tried something on a tenant that exists (an owner
    # or developer refused): anonymous or unreadable refusals would let anyone grow the
    # append-only table; they are in the central error log (and security events).
    if channel == "admin" and actor:
        admin_audit_write_safely(
            actor=actor,
            tenant=tenant,
            action=bounded(action) or "(unreadable)",
            version=version,
            outcome="refused",
            code=str(code),
            payload_summary=summary or {},
            message_id=bounded(request.get("id"), 64),
            channel="admin",
        )


def _write_tenant_line(log_slug: str, entry: dict) -> None:
    try:
        path = tenant_log_path(log_slug)
    except ValueError:
        log.error("no action log line for unusable tenant %r", log_slug)
        return
    safe_append(path, entry)
    action_log.debug("%s %s %s", log_slug, entry["action"], entry["status"])
