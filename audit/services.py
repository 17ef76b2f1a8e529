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
