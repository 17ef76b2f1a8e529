"""Audit services: the central error log and the tenant action log.

Callers pass what happened; this module decides where and how it is written.
"""

import logging
from typing import Any

error_log = logging.getLogger("switchboard.errors")
action_log = logging.getLogger("switchboard.actions")


def error_record(
    *,
    component: str,
    trace_id: str,
    code: str,
    message: str,
    tenant: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    message_id: str | None = None,
    details: dict[str, Any] | None = None,
    exc_info: bool = False,
) -> None:
    """One entry in the central error log; `trace_id` is what the client was given."""
    error_log.error(
        "%s %s: %s",
        component,
        code,
        message,
        exc_info=exc_info,
        extra={
            "trace_id": trace_id,
            "code": str(code),
            "component": component,
            "tenant": tenant,
            "actor": actor,
            "action": action,
            "message_id": message_id,
        },
    )


def action_log_write(*, tenant: str, record) -> None:
    """One line in the tenant's action log for a finished action record."""
    action_log.info(
        "%s %s %s",
        tenant,
        record.action,
        record.status,
        extra={
            "tenant": tenant,
            "message_id": str(record.id),
            "action": record.action,
            "version": record.version,
            "actor": record.actor_email,
            "status": record.status,
            "code": (record.error or {}).get("code"),
            "duration_ms": record.duration_ms,
        },
    )


def admin_audit_write(
    *,
    actor: str | None,
    tenant: str | None,
    action: str,
    outcome: str,
    payload_summary: dict[str, Any] | None = None,
    reason: str | None = None,
    as_super_admin: bool = False,
) -> None:
    """One entry in the admin audit log (append-only, hash-chained: see issue 4)."""
    logging.getLogger("switchboard.audit").info(
        "%s %s %s",
        tenant,
        action,
        outcome,
        extra={
            "actor": actor,
            "tenant": tenant,
            "action": action,
            "outcome": outcome,
            "payload_summary": payload_summary or {},
            "reason": reason,
            "as_super_admin": as_super_admin,
        },
    )


def security_event(
    *,
    category: str,
    path: str | None,
    tenant: str | None,
    actor: str | None,
    action: str | None,
    source: str,
    code: str,
) -> None:
    """A refused request (hostile input, rate limit): never the raw value."""
    logging.getLogger("switchboard.security").warning(
        "%s %s %s",
        code,
        category,
        path,
        extra={
            "category": category,
            "path": path,
            "tenant": tenant,
            "actor": actor,
            "action": action,
            "source": source,
            "code": code,
        },
    )
