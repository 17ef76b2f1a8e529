"""Reads of the logs: filtered, newest first, a page at a time.

Permissions are the caller's business (the log actions check roles); these take the
scope they are given. File logs are scanned (seven days of one tenant, or of the
central error log): fine on one machine; docs/logging.md says what replaces it.
"""

from datetime import datetime, timedelta
from typing import Any

from audit import jsonlines
from audit.files import error_log_path, local_today, now_iso, tenant_log_path
from config.cursors import number


def _matches(entry: dict, filters: dict[str, Any]) -> bool:
    return all(
        value is None
        or entry.get(key) == value
        # Emails are kept lower-cased (accounts are); a filter may be spelt otherwise.
        or (key == "actor" and str(entry.get(key) or "").lower() == str(value).lower())
        for key, value in filters.items()
    )


def _window(since: datetime | None, until: datetime | None) -> tuple[str | None, str | None]:
    return (now_iso(since) if since else None), (now_iso(until) if until else None)


def _page_of_files(path, *, since, until, filters, limit, cursor, key):
    low, high = _window(since, until)
    # Rotated files are named after the local day they hold; a day of slack for the
    # lines written between midnight and the rotation.
    not_before = local_today(since) - timedelta(days=1) if since else None
    found = []
    for entry in jsonlines.read_newest_first(path, not_before=not_before):
        at = entry.get("at") or ""
        if (low and at < low) or (high and at >= high) or not _matches(entry, filters):
            continue
        found.append(entry)
    found.sort(key=lambda e: (e.get("at") or "", str(e.get(key) or "")), reverse=True)
    if cursor:
        found = [e for e in found if _cursor_of(e, key) < cursor]
    page = found[:limit]
    next_cursor = _cursor_of(page[-1], key) if len(found) > limit else None
    return page, next_cursor


def _cursor_of(entry: dict, key: str) -> str:
    # Same order as the sort: `at` strings have one fixed width, so text order is time order.
    return f"{entry.get('at') or ''}|{entry.get(key) or ''}"


def tenant_log_query(
    *,
    tenant: str,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
    status: str | None = None,
    code: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict], str | None]:
    """One page of tenant `tenant`'s action log, newest first."""
    return _page_of_files(
        tenant_log_path(tenant),
        since=since,
        until=until,
        filters={"action": action, "actor": actor, "status": status, "code": code},
        limit=limit,
        cursor=cursor,
        key="message_id",
    )


def error_log_query(
    *,
    tenant: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
    code: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict], str | None]:
    """One page of the central error log, newest first."""
    return _page_of_files(
        error_log_path(),
        since=since,
        until=until,
        filters={
            "tenant": tenant,
            "source": source,
            "action": action,
            "actor": actor,
            "code": code,
        },
        limit=limit,
        cursor=cursor,
        key="trace_id",
    )


def admin_audit_query(
    *,
    tenant: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
    status: str | None = None,
    code: str | None = None,
    super_admin_only: bool = False,
    limit: int = 50,
    cursor: str | None = None,
):
    """One page of the admin audit log of `tenant` ("" or None: platform entries)."""
    from audit.models import AdminAuditEntry

    entries = AdminAuditEntry.objects.filter(tenant=tenant or "").order_by("-seq")
    if since:
        entries = entries.filter(at__gte=since)
    if until:
        entries = entries.filter(at__lt=until)
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor__iexact=actor)
    if code:
        entries = entries.filter(code=code)
    if status == "error":
        entries = entries.exclude(code="")
    elif status == "ok":
        entries = entries.filter(code="")
    elif status == "pending":
        entries = entries.none()
    if super_admin_only:
        entries = entries.filter(as_super_admin=True)
    if cursor:
        before = number(cursor)
        entries = entries.none() if before is None else entries.filter(seq__lt=before)
    page = list(entries[: limit + 1])
    next_cursor = str(page[limit - 1].seq) if len(page) > limit else None
    return page[:limit], next_cursor
