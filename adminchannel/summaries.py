"""`dashboard.summary`: a tenant's activity over a window, from its action records, its
memberships and the admin audit log's chain."""

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from psycopg import sql

from actions.models import ActionRecord
from audit.admin_log import audit_verify
from tenants.models import Membership, Tenant
from tenants.roles import OWNER_ROLES

DEFAULT_WINDOW = timedelta(hours=24)


def _rows(statement: sql.Composable, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.connection), params)
        return cursor.fetchall()


def subscriptions_count(*, tenant: Tenant) -> int:
    """Connector subscriptions of the tenant (0 until connectors keep subscriptions)."""
    from django.apps import apps

    for model in apps.get_app_config("connectors").get_models():
        if model.__name__ == "Subscription":
            return model._default_manager.filter(tenant=tenant).count()
    return 0


def audit_chain_state() -> dict[str, Any]:
    """The whole chain checked now (`audit.admin.verify`); the dashboard's verdict is this
    one from then on."""
    global _audit_state
    verdict = audit_verify()
    state = {
        "ok": verdict.ok,
        "checked": verdict.checked,
        "first_bad_seq": verdict.first_bad_seq,
        "problem": verdict.problem or None,
    }
    _audit_state = (_clock(), state)
    return dict(state)


# Every owner's dashboard shows the whole chain's state, and checking it reads every entry
# of every tenant: for the dashboard, a verdict serves this process's calls for
# AUDIT_STATE_TTL_S, made by one call at a time (`audit.admin.verify` and
# `manage.py audit_verify` check afresh).
AUDIT_STATE_TTL_S = 60.0
_audit_state_lock = threading.Lock()
_audit_state: tuple[float, dict[str, Any]] | None = None
_clock = time.monotonic


def audit_chain_state_recent() -> dict[str, Any]:
    """`audit_chain_state()`, at most AUDIT_STATE_TTL_S old (`dashboard.summary`)."""
    with _audit_state_lock:
        if _audit_state is not None and _clock() - _audit_state[0] < AUDIT_STATE_TTL_S:
            return dict(_audit_state[1])
        return audit_chain_state()


def tenant_summary(
    *, tenant: Tenant, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    until = until or timezone.now()
    since = since or until - DEFAULT_WINDOW
    table = sql.Identifier(tenant.schema_name, ActionRecord._meta.db_table)
    params = {"since": since, "until": until}
    window = sql.SQL("created_at >= %(since)s AND created_at < %(until)s")
    by_status = dict(
        _rows(
            sql.SQL("SELECT status, count(*) FROM {t} WHERE {w} GROUP BY status").format(
                t=table, w=window
            ),
            params,
        )
    )
    top = _rows(
        sql.SQL(
            "SELECT action, count(*) FROM {t} WHERE {w} GROUP BY action "
            "ORDER BY count(*) DESC, action LIMIT 20"
        ).format(t=table, w=window),
        params,
    )
    codes = _rows(
        sql.SQL(
            "SELECT error->>'code', count(*) FROM {t} WHERE {w} AND status = 'error' "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 20"
        ).format(t=table, w=window),
        params,
    )
    memberships = Membership.objects.filter(tenant=tenant)
    return {
        "since": since,
        "until": until,
        "actions": {
            "ok": by_status.get("ok", 0),
            "error": by_status.get("error", 0),
            "pending": by_status.get("accepted", 0) + by_status.get("running", 0),
        },
        "top_actions": [{"action": a, "count": n} for a, n in top],
        "errors": by_status.get("error", 0),
        "errors_by_code": {code or "internal_error": n for code, n in codes},
        "members": memberships.count(),
        "owners": memberships.filter(role__in=OWNER_ROLES).count(),
        "subscriptions": subscriptions_count(tenant=tenant),
        "audit_chain": audit_chain_state_recent(),
    }
