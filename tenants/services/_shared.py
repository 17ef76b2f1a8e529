"""What several tenant-service modules share: the audit write."""

from audit import admin_log
from tenants.identity import Actor
from tenants.models import Tenant


def audit_write(*, by: Actor | None, tenant: Tenant | None, action: str, summary: dict, **extra):
    admin_log.admin_audit_write(
        actor=by.email if by else None,
        tenant=tenant.schema_name if tenant else None,
        action=action,
        outcome=extra.pop("outcome", "ok"),
        payload_summary=summary,
        **extra,
    )
