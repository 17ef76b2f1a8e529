"""Credentials: validated against their provider's fields, stored sealed (crypto.py), shown
without their values, opened only for a connector call on a worker."""

from typing import Any

from django.db import connection, transaction
from django_tenants.utils import get_tenant_model, schema_context

from actions.contract.errors import ActionError, ErrorCode
from connectors import crypto
from connectors.catalog import PROVIDERS
from connectors.models import Credential


def _schema() -> str:
    return connection.schema_name  # type: ignore[attr-defined]


def _not_found(credential_id: str) -> ActionError:
    return ActionError(ErrorCode.NOT_FOUND, "No such credential.", details={"id": credential_id})


def validate(provider: str, data: dict[str, str]) -> None:
    """`data` fits the provider's fields: known provider, every required field, no other
    field. The refusal names fields, never values."""
    spec = PROVIDERS.get(provider)
    if spec is None:
        raise ActionError(
            ErrorCode.VALIDATION_ERROR,
            f"No provider {provider!r}.",
            details={"errors": [{"path": "payload/provider", "reason": "unknown provider"}]},
        )
    names = {f.name for f in spec.fields}
    errors = [
        {"path": f"payload/data/{f.name}", "reason": "required by the provider"}
        for f in spec.fields
        if f.required and not data.get(f.name)
    ]
    errors += [
        {"path": "payload/data/(key)", "reason": "not a field of the provider"}
        for key in sorted(set(data) - names)
    ]
    if errors:
        raise ActionError(
            ErrorCode.VALIDATION_ERROR,
            "The data does not fit the provider's fields.",
            details={"errors": errors},
        )


def describe(row: Credential) -> dict[str, Any]:
    return {
        "id": row.id,
        "workspace_id": row.workspace_id,
        "provider": row.provider,
        "name": row.name,
        "fields": list(row.fields),
        "valid": row.valid,
        "checked_at": row.checked_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def credential_create(
    *, workspace_id: str, provider: str, name: str, data: dict[str, str]
) -> Credential:
    validate(provider, data)
    row = Credential(workspace_id=workspace_id, provider=provider, name=name, fields=sorted(data))
    sealed = crypto.seal(data, schema=_schema(), credential_id=row.id)
    row.nonce, row.ciphertext = sealed.nonce, sealed.ciphertext
    row.wrapped_key, row.kek_id = sealed.wrapped_key, sealed.kek_id
    row.save(force_insert=True)
    return row


def credential_get(credential_id: str) -> Credential:
    row = Credential.objects.filter(id=credential_id).first()
    if row is None:
        raise _not_found(credential_id)
    return row


def credential_delete(credential_id: str) -> None:
    if not Credential.objects.filter(id=credential_id).delete()[0]:
        raise _not_found(credential_id)


def credential_secrets(credential_id: str, *, provider: str) -> dict[str, str]:
    """The credential's fields in the clear, for a connector call only (never returned,
    logged or traced). It must be a credential of `provider`."""
    row = Credential.objects.filter(id=credential_id, provider=provider).first()
    if row is None:
        raise ActionError(
            ErrorCode.VALIDATION_ERROR,
            f"The connector's config names no credential of provider {provider!r}.",
            details={"errors": [{"path": "config/credential_id", "reason": "no such credential"}]},
        )
    sealed = crypto.Sealed(
        bytes(row.nonce), bytes(row.ciphertext), bytes(row.wrapped_key), row.kek_id
    )
    return crypto.open_sealed(sealed, schema=_schema(), credential_id=row.id)


def rotate_all(*, ring: crypto.KeyRing, target: bytes) -> dict[str, int]:
    """Rewrap every credential's data key, in every tenant's schema, with `target`.
    One transaction per tenant; rows already on `target` are left alone, so a run that
    stopped half-way is finished by running it again. Returns {schema: rows rewrapped}."""
    done: dict[str, int] = {}
    target_id = crypto.kek_id(target)
    for schema in (
        get_tenant_model().objects.values_list("schema_name", flat=True).order_by("schema_name")
    ):
        with schema_context(schema), transaction.atomic():
            count = 0
            for row in Credential.objects.select_for_update().exclude(kek_id=target_id):
                row.wrapped_key, row.kek_id = crypto.rewrap(
                    bytes(row.wrapped_key), row.kek_id, ring=ring, target=target
                )
                row.save(update_fields=["wrapped_key", "kek_id"])
                count += 1
            done[schema] = count
    return done
