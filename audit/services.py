"""Audit services: the central error log, the tenant action logs, the admin audit log and
security events. Callers say what happened; this module decides where and how it is kept.

- Central error log: `<logs>/errors.jsonl`, one JSON line per error, found by trace id.
- Tenant action log: `<logs>/tenants/<slug>/actions.jsonl`, one line per action message.
- Security events: `<logs>/security.jsonl`.
- Admin audit log: the `AdminAuditEntry` table (public schema), append-only, hash-chained.

`<logs>` is `settings.SWITCHBOARD_LOGS_DIR`, by default `VAR_DIR/logs`. The files are
rotated at midnight by `audit.tasks.logs_rotate` and kept seven days (docs/logging.md).
Writing a log line never breaks the request that caused it: a failure to write goes to
the process's own logging instead.
"""

import logging
import os
import re
import socket
import sys
import traceback
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import jsonlines, sentry
from audit.chain import GENESIS, entry_hash
from audit.summaries import scrub, scrub_text, shape, shape_for

error_log = logging.getLogger("switchboard.errors")
action_log = logging.getLogger("switchboard.actions")
log = logging.getLogger(__name__)

RETENTION_DAYS = 7
TENANT_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_STACK = 16_000
# Codes that are Switchboard's fault rather than the caller's: logged at ERROR and sent
# to Sentry. The others are refusals, logged at WARNING and kept in the file only.
SERVER_CODES = frozenset({"internal_error", "connector_error", "timeout"})
# Any constant: the key of the advisory lock that serialises the audit chain.
AUDIT_CHAIN_LOCK = 0x5377_6175_6469_74  # "Swaudit"
_HOST = socket.gethostname()


# --- where ---------------------------------------------------------------------------------
def logs_dir() -> Path:
    configured = getattr(settings, "SWITCHBOARD_LOGS_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "logs"


def error_log_path() -> Path:
    return logs_dir() / "errors.jsonl"


def security_log_path() -> Path:
    return logs_dir() / "security.jsonl"


def tenant_log_path(slug: str) -> Path:
    """The live action log of tenant `slug` (`platform` for platform-scoped actions)."""
    if not TENANT_SLUG.match(slug or ""):  # the slug becomes a path: never trust it
        raise ValueError(f"not a tenant slug: {slug!r}")
    return logs_dir() / "tenants" / slug / "actions.jsonl"


def _now_iso(at: datetime | None = None) -> str:
    return (at or timezone.now()).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _safe_append(path: Path, entry: dict[str, Any]) -> None:
    try:
        jsonlines.append(path, entry)
    except OSError:
        log.exception("could not write to %s; the entry was %r", path, entry)


def _bounded(value: Any, limit: int = 100) -> str | None:
    return None if value is None else str(value)[:limit]


# --- central error log ---------------------------------------------------------------------
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
        "at": _now_iso(),
        "trace_id": _bounded(trace_id, 64),
        "component": _bounded(component),
        "source": _source(component),
        "tenant": _bounded(tenant),
        "actor": _bounded(actor, 254),
        "action": _bounded(action),
        "message_id": _bounded(message_id, 64),
        "code": code,
        "message": scrub_text(message, 2000),
        "exception_type": exc_type,
        "stack": stack,
        "details": scrub(details) if details else None,
        "host": _HOST,
        "pid": os.getpid(),
    }
    _safe_append(error_log_path(), entry)
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


# --- tenant action log ---------------------------------------------------------------------
def _spec_for(action: str | None, version: int | None):
    from actions.registry import registry

    try:
        return registry.get(action, version) if action else None
    except Exception:  # an unknown or retired action: fall back to the always-secret keys
        return None


def _summary(spec, value: Any) -> Any:
    return shape_for(spec, value) if spec is not None else shape(value)


def action_log_write(*, tenant: str, record, roles: frozenset[str] | None = None) -> None:
    """One line in the tenant's action log for a finished action record.

    A record of the admin channel is also written to the admin audit log, so that every
    admin-channel command is there whichever worker ran it; so is a record of either
    channel that its actor ran as super admin (under a grant, not by a membership), marked
    `as_super_admin` with the grant and its reason. `roles`, the actor's roles when the
    action ran (the executor's `ctx.roles`), spares a query when they hold no
    `super_admin`; without them the grant live at the record's start is looked up.
    """
    spec = _spec_for(record.action, record.version)
    error = record.error or {}
    entry = {
        "at": _now_iso(record.finished_at),
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
        "request": _summary(spec, record.payload),
        "response": (
            _summary(spec, record.result)
            if record.status == "ok"
            else {"code": error.get("code"), "message": scrub_text(error.get("message"), 500)}
        ),
    }
    _write_tenant_line(tenant, entry)
    grant = _grant_of(tenant=tenant, record=record, spec=spec, roles=roles)
    if record.channel == "admin" or grant is not None:
        _audit_safely(
            actor=record.actor_email or None,
            tenant=None if tenant == "platform" else tenant,
            action=record.action,
            version=record.version,
            outcome=record.status,
            code=error.get("code"),
            payload_summary=entry["request"],
            message_id=str(record.id),
            channel=record.channel,
            as_super_admin=grant is not None,
            grant_id=str(grant.pk) if grant is not None else None,
            reason=grant.reason if grant is not None else None,
        )


def _grant_of(*, tenant: str, record, spec, roles: frozenset[str] | None):
    """The super-admin grant the record's actor acted under, or None. Never raises: the
    action is done, and a failed lookup must not lose its log line."""
    actor_id = getattr(record, "actor_id", None)
    if actor_id is None or tenant == "platform":
        return None
    if roles is not None and "super_admin" not in roles:
        return None
    try:
        from tenants.services import superadmin_grant_acted_under

        return superadmin_grant_acted_under(
            user_id=actor_id,
            tenant_slug=tenant,
            at=getattr(record, "started_at", None) or record.finished_at or timezone.now(),
            action_roles=tuple(spec.roles) if spec is not None else None,
        )
    except Exception:
        log.exception("could not tell whether record %s ran as super admin", record.id)
        return None


def action_log_refusal(
    *,
    request: dict,
    code: str,
    message: str,
    trace_id: str,
    channel: str,
    transport: str,
    actor: str | None = None,
) -> None:
    """A message refused at the edge (before a record exists): one line in the log of the
    tenant it named, if that tenant exists; an admin-channel refusal of an authenticated
    actor on an existing tenant (or `platform`) is also audited.
    Never raises: the refusal must reach its client whatever happens here."""
    try:
        _action_log_refusal(request, code, message, trace_id, channel, transport, actor)
    except Exception:
        log.exception("could not log the refusal of trace %s", trace_id)


def _action_log_refusal(request, code, message, trace_id, channel, transport, actor) -> None:
    from tenants import services as tenants

    slug = request.get("tenant")
    known = isinstance(slug, str) and TENANT_SLUG.match(slug) is not None
    if known and slug != tenants.PLATFORM:
        known = tenants.tenant_get(slug=slug) is not None
    action = request.get("action") if isinstance(request.get("action"), str) else None
    version = request.get("version") if isinstance(request.get("version"), int) else None
    payload = request.get("payload")
    spec = _spec_for(action, version)
    summary = _summary(spec, payload) if isinstance(payload, dict) else None
    if known:
        _write_tenant_line(
            slug,
            {
                "at": _now_iso(),
                "message_id": _bounded(request.get("id"), 64),
                "action": _bounded(action),
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
    if channel == "admin" and actor and known:
        _audit_safely(
            actor=actor,
            tenant=slug if known and slug != tenants.PLATFORM else None,
            action=_bounded(action) or "(unreadable)",
            version=version,
            outcome="refused",
            code=str(code),
            payload_summary=summary or {},
            message_id=_bounded(request.get("id"), 64),
            channel="admin",
        )


def _write_tenant_line(tenant: str, entry: dict) -> None:
    try:
        path = tenant_log_path(tenant)
    except ValueError:
        log.error("no action log line for unusable tenant %r", tenant)
        return
    _safe_append(path, entry)
    action_log.debug("%s %s %s", tenant, entry["action"], entry["status"])


# --- admin audit log -----------------------------------------------------------------------
def admin_audit_write(
    *,
    actor: str | None,
    tenant: str | None,
    action: str,
    outcome: str,
    payload_summary: dict[str, Any] | None = None,
    reason: str | None = None,
    as_super_admin: bool = False,
    actor_role: str | None = None,
    grant_id: str | None = None,
    message_id: str | None = None,
    version: int | None = None,
    code: str | None = None,
    channel: str | None = None,
):
    """One entry in the admin audit log (append-only, hash-chained). Returns the entry.

    Call it inside the transaction of the change it records: the entry commits or rolls
    back with it. `payload_summary` is scrubbed of secrets here whatever the caller did.
    """
    from audit.models import AdminAuditEntry

    summary = scrub(payload_summary or {})
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One writer at a time, so each entry's prev_hash is the entry before it.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        last = AdminAuditEntry.objects.order_by("-seq").values("seq", "hash").first()
        fields = {
            "seq": (last["seq"] + 1) if last else 1,
            "at": timezone.now(),
            "actor": actor or "",
            "actor_role": actor_role or ("super_admin" if as_super_admin else ""),
            "tenant": tenant or "",
            "action": action[:100],
            "version": version,
            "message_id": message_id or "",
            "channel": channel or "",
            "outcome": str(outcome)[:40],
            "code": str(code or ""),
            "payload_summary": summary,
            "reason": reason or "",
            "as_super_admin": as_super_admin,
            "grant_id": grant_id or "",
            "prev_hash": last["hash"] if last else GENESIS,
        }
        fields["hash"] = entry_hash(fields)
        return AdminAuditEntry.objects.create(**fields)


def _audit_safely(**kwargs) -> None:
    # Called after the action committed: a failure here must not turn a done action
    # into an error, but it must be loud.
    try:
        admin_audit_write(**kwargs)
    except Exception:
        log.exception("admin audit entry lost: %r", kwargs)
        error_record(
            component="worker",
            trace_id="audit",
            code="internal_error",
            message="could not write the admin audit entry",
            tenant=kwargs.get("tenant"),
            actor=kwargs.get("actor"),
            action=kwargs.get("action"),
            message_id=kwargs.get("message_id"),
            exc_info=True,
        )


def audit_verify(*, batch: int = 5000):
    """Check the whole chain; a `chain.Verdict` naming the first bad entry, if any."""
    from audit.chain import Verdict, verify
    from audit.models import AdminAuditEntry

    prev_hash, prev_seq, checked = GENESIS, 0, 0
    while True:
        # Page by position, not by seq values: a gap must be seen, not skipped over.
        page = list(AdminAuditEntry.objects.order_by("seq", "id")[checked : checked + batch])
        if not page:
            return Verdict(True, checked)
        verdict = verify(page, prev_hash=prev_hash, prev_seq=prev_seq)
        if not verdict.ok:
            verdict.checked += checked
            return verdict
        checked += len(page)
        prev_hash, prev_seq = page[-1].hash, page[-1].seq


# --- security events -----------------------------------------------------------------------
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
    entry = {
        "at": _now_iso(),
        "category": _bounded(category),
        "path": _bounded(path, 200),
        "tenant": _bounded(tenant),
        "actor": _bounded(actor, 254),
        "action": _bounded(action),
        "source": _bounded(source),
        "code": str(code),
    }
    _safe_append(security_log_path(), entry)
    logging.getLogger("switchboard.security").warning("%s %s %s", code, category, path)


# --- rotation and retention ----------------------------------------------------------------
def live_log_files() -> list[Path]:
    """Every live log file: the central ones and each tenant's action log."""
    root = logs_dir()
    files = [error_log_path(), security_log_path()]
    tenants_root = root / "tenants"
    if tenants_root.is_dir():
        files += sorted(p / "actions.jsonl" for p in tenants_root.iterdir() if p.is_dir())
    return files


def local_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def logs_rotate(*, now: datetime | None = None, keep_days: int = RETENTION_DAYS) -> dict:
    """Close each live file under yesterday's date and delete files older than
    `keep_days` days. Beat runs it at midnight in settings.TIME_ZONE."""
    today = local_today(now)
    rotated, removed = [], []
    for path in live_log_files():
        target = jsonlines.rotate(path, day=today - timedelta(days=1))
        if target is not None:
            rotated.append(str(target))
        expired = jsonlines.remove_expired(path, today=today, keep_days=keep_days)
        removed += [str(p) for p in expired]
    return {"rotated": rotated, "removed": removed}
