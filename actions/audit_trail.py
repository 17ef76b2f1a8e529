"""The action pipeline's door to the logs (the `audit` package, a sink).

The edge and the worker log through this module. It adds what only the action side
knows and hands the audit package plain values: the index entry's secret keys (so that a
summary hides them), whether the tenant a refused message named exists, and the
super-admin grant an actor acted under.
"""

import logging
from typing import Any

from django.utils import timezone

from audit import action_log
from audit.error_log import error_record
from audit.files import TENANT_SLUG
from audit.security_log import security_event
from audit.summaries import shape
from tenants.platform import PLATFORM
from tenants.roles import Role

__all__ = ["action_log_refusal", "action_log_write", "error_record", "security_event"]

log = logging.getLogger(__name__)


def action_log_write(*, tenant: str, record, roles: frozenset[str] | None = None) -> None:
    """One line in the tenant's action log for a finished action record (and an admin
    audit entry for the admin channel, or for an action run as super admin).

    `roles`, the actor's roles when the action ran (the executor's `ctx.roles`), spares a
    query when they hold no `super_admin`; without them the grant live at the record's
    start is looked up.
    """
    spec = _spec_for(record.action, record.version)
    grant = _grant_of(tenant=tenant, record=record, spec=spec, roles=roles)
    action_log.action_log_write(
        log_slug=tenant,
        tenant=None if tenant == PLATFORM else tenant,
        record=record,
        summarize=_summarizer(spec),
        grant_id=str(grant.pk) if grant is not None else None,
        grant_reason=grant.reason if grant is not None else None,
    )


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
    """A message refused at the edge: a line in the log of the tenant it named, if that
    tenant exists (or is `platform`). Never raises: the refusal must reach its client."""
    try:
        log_slug, tenant = _refused_on(request.get("tenant"))
        action = request.get("action") if isinstance(request.get("action"), str) else None
        version = request.get("version") if isinstance(request.get("version"), int) else None
        summarize = _summarizer(_spec_for(action, version))
    except Exception:
        log.exception("could not log the refusal of trace %s", trace_id)
        return
    action_log.action_log_refusal(
        request=request,
        code=code,
        message=message,
        trace_id=trace_id,
        channel=channel,
        transport=transport,
        log_slug=log_slug,
        tenant=tenant,
        actor=actor,
        summarize=summarize,
    )


def _refused_on(slug: Any) -> tuple[str | None, str | None]:
    """(the log the refusal goes to, the tenant an audit entry names): (None, None) for a
    slug that names nothing that exists, (`platform`, None) for the platform."""
    from tenants import services as tenants

    if not (isinstance(slug, str) and TENANT_SLUG.match(slug)):
        return None, None
    if slug == PLATFORM:
        return slug, None
    if tenants.tenant_get(slug=slug) is None:
        return None, None
    return slug, slug


def _spec_for(action: str | None, version: int | None):
    from actions.contract.registry import registry

    try:
        return registry.get(action, version) if action else None
    except Exception:  # an unknown or retired action: fall back to the always-secret keys
        return None


def _summarizer(spec):
    """Shapes of a payload with every key `spec` marks secret hidden (the always-secret
    keys alone without a spec)."""
    if spec is None:
        return shape
    from actions.contract.redaction import keys_for

    keys = keys_for(spec)
    return lambda value: shape(value, keys)


def _grant_of(*, tenant: str, record, spec, roles: frozenset[str] | None):
    """The super-admin grant the record's actor acted under, or None. Never raises: the
    action is done, and a failed lookup must not lose its log line."""
    actor_id = getattr(record, "actor_id", None)
    if actor_id is None or tenant == PLATFORM:
        return None
    if roles is not None and Role.SUPER_ADMIN not in roles:
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
