"""`tenants.config.set`: Replace the tenant's config overrides (validated, versioned)."""

import copy
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo

from actions.contract.payloads import FROM_MESSAGE, Payload
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


def _config_valid(overrides: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    """The whole config schema (and a real time zone) already at step 5 of the pipeline;
    the service checks it again on the worker (and answers its own validation_error)."""
    from tenants.config import config_validate

    if FROM_MESSAGE in (info.context or {}):
        config_validate(overrides)  # ConfigInvalid is a ValueError: paths and rules, no values
    return overrides


TenantConfigOverrides = Annotated[
    dict[str, Any], Field(json_schema_extra=_config_schema), AfterValidator(_config_valid)
]


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
