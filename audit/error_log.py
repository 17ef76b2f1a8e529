"""The central error log: every error of the API, a connector, a worker or beat, one JSON
line each in `<logs>/errors.jsonl`, found by the trace id its client was given. Server
faults also go to Sentry when a DSN is configured."""

import logging
import os
import socket
import sys
import traceback
from typing import Any

from audit import sentry
from audit.files import bounded, error_log_path, now_iso, safe_append
from audit.summaries import scrub, scrub_text

error_log = logging.getLogger("switchboard.errors")

MAX_STACK = 16_000
# Codes that are Switchboard's fault rather than the caller's: logged at ERROR and sent
# to Sentry. The others are refusals, logged at WARNING and kept in the file only.
SERVER_CODES = frozenset({"internal_error", "connector_error", "timeout", "unavailable"})
_HOST = socket.gethostname()


def _source(component: str) -> str:
    if component.startswith("gateway"):
        return "api"
    if component.startswith(("beat", "maintenance")):
        return "beat"
    if component.startswith("connector"):
        return "connector"
    return "worker"


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
    exception: BaseException | None = None,
) -> None:
    """One entry in the central error log; `trace_id` is what the client was given.

    `component`: `gateway.rest`, `gateway.amqp`, `worker`, `connector.<name>`, `beat`.
    With `exc_info`, the exception being handled (or `exception`) is recorded: its type
    and stack, scrubbed of secrets.
    """
    exc_type = stack = value = None
    etype: type[BaseException] | None
    if exc_info or exception is not None:
        if exception is not None:
            etype, value, tb = type(exception), exception, exception.__traceback__
        else:
            etype, value, tb = sys.exc_info()
        if etype is not None:
            exc_type = f"{etype.__module__}.{etype.__qualname__}"
            stack = scrub_text("".join(traceback.format_exception(etype, value, tb)), MAX_STACK)
    code = str(code)
    entry = {
        "at": now_iso(),
        "trace_id": bounded(trace_id, 64),
        "component": bounded(component),
        "source": _source(component),
        "tenant": bounded(tenant),
        "actor": bounded(actor, 254),
        "action": bounded(action),
        "message_id": bounded(message_id, 64),
        "code": code,
        "message": scrub_text(message, 2000),
        "exception_type": exc_type,
        "stack": stack,
        "details": scrub(details) if details else None,
        "host": _HOST,
        "pid": os.getpid(),
    }
    safe_append(error_log_path(), entry)
    server_fault = code in SERVER_CODES
    error_log.log(
        logging.ERROR if server_fault else logging.WARNING,
        "%s %s %s: %s",
        component,
        code,
        trace_id,
        entry["message"],
        extra={"trace_id": trace_id, "code": code, "tenant": tenant, "action": action},
    )
    if server_fault and sentry.active():
        sentry.capture(
            exception=value if exc_type else None,
            message=f"{component} {code}: {entry['message']}",
            tags={"tenant": tenant, "action": action, "component": component, "trace_id": trace_id},
        )
