"""Secrets kept in action results only as long as replays need them.

A repeat of the same message id answers the first result, tokens included, so a client
that lost the answer to `auth.login` gets it again. Past the replay window
(SWITCHBOARD["SECRET_REPLAY_WINDOW_SECONDS"]) those secrets are redacted from the record:
a copy of the database then holds no live token. A later replay answers the redacted
result.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from actions.contract.redaction import ALWAYS_SECRET, redact_for, secret_keys
from actions.contract.registry import registry
from actions.delivery.outbox import record_schemas
from actions.models import ActionRecord, RecordStatus
from tenants.schema_scan import schemas_with_rows


def _string_property_names(schema) -> set[str]:
    """Names of the string-valued properties anywhere in a JSON schema."""
    names: set[str] = set()
    if isinstance(schema, dict):
        for name, prop in (schema.get("properties") or {}).items():
            variants = [prop, *prop.get("anyOf", [])] if isinstance(prop, dict) else []
            if any(isinstance(v, dict) and v.get("type") == "string" for v in variants):
                names.add(name)
        for value in schema.values():
            names |= _string_property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names |= _string_property_names(value)
    return names


def actions_with_secret_results() -> list[str]:
    """Actions whose output schema holds a secret (marked, or a name always secret)."""
    return sorted(
        {
            spec.name
            for spec in registry.all()
            if secret_keys(spec.output_schema)
            or {n.lower() for n in _string_property_names(spec.output_schema)} & ALWAYS_SECRET
        }
    )


def purge_secrets(*, now=None) -> int:
    """Redact the secrets of results finished before the replay window. Returns the count."""
    now = now or timezone.now()
    conf: dict[str, Any] = settings.SWITCHBOARD  # values of mixed types
    cutoff = now - timedelta(seconds=conf["SECRET_REPLAY_WINDOW_SECONDS"])
    names = actions_with_secret_results()
    if not names:
        return 0
    count = 0
    schemas = record_schemas()
    due_in = schemas_with_rows(  # the schemas with something to purge, in a few queries
        schemas,
        table=ActionRecord._meta.db_table,
        where=(
            "action = ANY(%(names)s) AND status = %(ok)s AND finished_at < %(cutoff)s"
            " AND secrets_purged_at IS NULL"
        ),
        params={"names": names, "ok": RecordStatus.OK, "cutoff": cutoff},
    )
    for schema in [s for s in schemas if s in due_in]:
        with schema_context(schema):
            due = ActionRecord.objects.filter(
                action__in=names,
                status=RecordStatus.OK,
                finished_at__lt=cutoff,
                secrets_purged_at__isnull=True,
            )[:1000]
            for record in due:
                spec = registry.get(record.action, record.version)
                record.result = redact_for(spec, record.result)
                record.secrets_purged_at = now
                record.save(update_fields=["result", "secrets_purged_at"])
                count += 1
    return count
