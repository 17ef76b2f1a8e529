"""`tenants.config.set`: Replace the tenant's config overrides (validated, versioned)."""

import copy
from typing import Annotated, Any

from pydantic import Field

from actions.contract.payloads import Payload
from actions.contract.registry import action
from adminchannel.actions.tenants._models import TenantConfig, _by
from tenants.roles import OWNERS


def _config_schema(schema: dict[str, Any]) -> None:
    """The tenant config JSON Schema (tenants/config.py SCHEMA) in place of an open object,
    so that the contract says what `overrides` may hold. The service validates it."""
    from tenants.config import SCHEMA

    schema.clear()
    schema.update(copy.deepcopy({k: v for k, v in SCHEMA.items() if k not in ("$schema", "$id")}))
    schema["x-schema-id"] = SCHEMA["$id"]  # also published whole: tenant-config.schema.json


TenantConfigOverrides = Annotated[dict[str, Any], Field(json_schema_extra=_config_schema)]


class TenantConfigSet(Payload):
    """Replaces the tenant's overrides; `expected_version` refuses a lost update (`conflict`)."""

    overrides: TenantConfigOverrides
    expected_version: int | None = Field(default=None, ge=0)


@action(
    "tenants.config.set",
    channel="admin",
    roles=OWNERS,
    summary="Replace the tenant's config overrides (validated, versioned).",
    input=TenantConfigSet,
    output=TenantConfig,
    state="under_dev",
)
def tenants_config_set(ctx, payload: TenantConfigSet) -> TenantConfig:
    from tenants import services

    config = services.config_set(
        tenant=ctx.tenant_obj,
        overrides=payload.overrides,
        expected_version=payload.expected_version,
        **_by(ctx),
    )
    return TenantConfig(**config)
