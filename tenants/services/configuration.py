"""A tenant's config overrides: read, replace (versioned, audited), and the defaults.

The schema, validation and merging live in tenants.config; these are the reads and
writes of a tenant's stored overrides.
"""

from typing import Any

from django.db import transaction

from tenants.config import DEFAULTS, config_effective, config_validate, deep_merge
from tenants.errors import conflict
from tenants.identity import Actor
from tenants.models import Tenant, TenantConfigVersion
from tenants.services._shared import audit_write


def config_get(*, tenant: Tenant) -> dict[str, Any]:
    return {
        "overrides": tenant.config or {},
        "effective": config_effective(tenant=tenant),
        "version": tenant.config_version,
    }


def config_set(
    *,
    tenant: Tenant,
    overrides: dict,
    by: Actor | None,
    expected_version: int | None = None,
    as_super_admin: bool = False,
) -> dict[str, Any]:
    """Replace the overrides (validated), keep the version, audit the change."""
    config_validate(overrides)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if expected_version is not None and expected_version != locked.config_version:
            raise conflict(
                f"The config is at version {locked.config_version}, not {expected_version}.",
                version=locked.config_version,
            )
        locked.config = overrides
        locked.config_version += 1
        locked.save(update_fields=["config", "config_version"])
        TenantConfigVersion.objects.create(
            tenant=locked,
            version=locked.config_version,
            overrides=overrides,
            changed_by_id=by.id if by is not None else None,
        )
        audit_write(
            by=by,
            tenant=locked,
            action="tenants.config.set",
            summary={"version": locked.config_version, "keys": sorted(overrides)},
            as_super_admin=as_super_admin,
        )
    return config_get(tenant=locked)


def config_defaults() -> dict[str, Any]:
    return deep_merge(DEFAULTS, {})
