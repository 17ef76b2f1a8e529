"""The admin audit log: every admin-channel command and every super-admin action, in the
`AdminAuditEntry` table (public schema), append-only and hash-chained."""

import logging
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.chain import GENESIS, entry_hash
from audit.error_log import error_record
from audit.summaries import scrub

log = logging.getLogger(__name__)

# Any constant: the key of the advisory lock that serialises the audit chain.
AUDIT_CHAIN_LOCK = 0x5377_6175_6469_74  # "Swaudit"


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


def admin_audit_write_safely(**kwargs) -> None:
    """`admin_audit_write` after the action committed: a failure here must not turn a done
    action into an error, but it must be loud (process log and central error log)."""
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
    last_seq = None  # the last seq read: the next page starts after it (seq is unique)
    while True:
        # Page by seq, not by position (an OFFSET rereads every earlier page: quadratic in
        # the chain). A gap is still seen: `verify` wants each seq to be the one before + 1.
        entries = AdminAuditEntry.objects.order_by("seq")
        if last_seq is not None:
            entries = entries.filter(seq__gt=last_seq)
        page = list(entries[:batch])
        if not page:
            return Verdict(True, checked)
        verdict = verify(page, prev_hash=prev_hash, prev_seq=prev_seq)
        if not verdict.ok:
            verdict.checked += checked
            return verdict
        checked += len(page)
        prev_hash, prev_seq = page[-1].hash, page[-1].seq
        last_seq = prev_seq
