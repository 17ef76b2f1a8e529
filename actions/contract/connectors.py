"""Connectors as the message contract knows them: their entries in the index, the
subscription gate, and what a handler may ask of them (`ActionContext.connectors`).

The connectors themselves live in the `connectors` package, which only the worker side
imports (lint-imports: the edge rooms never do). That package registers each connector's
entry here when Django loads its app (`connectors.apps`), so the index can publish them
and the edge can gate on them without importing connector code.

The gate (`require_subscribed`) runs twice: at the edge, before the record is stored
(cheap: the tenant's subscriptions come with the access statement's Tenant row, no
query), and again on the worker just before the handler (a subscription may have ended
while the message waited in the queue).
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

from actions.contract.errors import ActionError, ErrorCode


@dataclass(frozen=True)
class ConnectorEntry:
    """One connector in the index."""

    key: str
    version: int
    name: str
    description: str
    state: str  # a release.states.State value
    provider: str | None  # the provider whose credential it needs; None: none
    config_schema: dict[str, Any] = field(default_factory=dict)

    def describe(self, actions: list[str]) -> dict[str, Any]:
        return {
            "key": self.key,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "state": self.state,
            "provider": self.provider,
            "config_schema": self.config_schema,
            "actions": actions,
        }


_entries: dict[str, ConnectorEntry] = {}


def connector_register(entry: ConnectorEntry) -> None:
    if entry.key in _entries and _entries[entry.key] != entry:
        raise ValueError(f"connector {entry.key} is registered twice")
    _entries[entry.key] = entry


def connector_entries() -> list[ConnectorEntry]:
    return sorted(_entries.values(), key=lambda e: e.key)


def connector_entry(key: str) -> ConnectorEntry | None:
    return _entries.get(key)


def subscriptions_of(tenant) -> dict[str, dict[str, Any]]:
    """The tenant's subscriptions, `{connector: {"subscribed_at": iso, "config": {...}}}`,
    from a Tenant row already loaded (no query); {} for the platform (no tenant)."""
    value = getattr(tenant, "connector_subscriptions", None) if tenant is not None else None
    return value if isinstance(value, dict) else {}


def require_subscribed(spec, tenant) -> None:
    """Refuse `spec` (an ActionSpec) with `not_subscribed` when the tenant has not
    subscribed to every connector it lists. Actions that list none cost nothing."""
    if not spec.connectors:
        return
    subscribed = subscriptions_of(tenant)
    for key in spec.connectors:
        if key not in subscribed:
            raise ActionError(
                ErrorCode.NOT_SUBSCRIBED,
                f"{spec.name} needs the connector {key!r}, which the tenant has not subscribed to.",
                details={"connector": key, "action": spec.name},
            )


class ConnectorGateway(Protocol):
    """What a handler on a worker may ask of the connectors (`ctx.connectors`): the only
    way an action reaches one. Implemented by `connectors.runtime.Gateway`."""

    def call(self, connector: str, request: Any) -> Any:
        """Run `connector` with its request DTO; its response DTO, or ActionError
        `connector_error` (the trace is kept either way)."""
        ...

    def catalog(self) -> list[dict[str, Any]]: ...
    def subscribe(self, connector: str, config: dict[str, Any]) -> dict[str, Any]: ...
    def unsubscribe(self, connector: str) -> dict[str, Any]: ...
    def traces(self, **query: Any) -> tuple[list[dict[str, Any]], str | None]: ...
    def trace(self, trace_id: str) -> dict[str, Any]: ...
    def providers(self) -> list[dict[str, Any]]: ...
    def credential_create(self, **fields: Any) -> dict[str, Any]: ...
    def credentials(self, **query: Any) -> tuple[list[dict[str, Any]], str | None]: ...
    def credential(self, credential_id: str) -> dict[str, Any]: ...
    def credential_delete(self, credential_id: str) -> None: ...
