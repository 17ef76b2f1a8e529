"""Redaction of secrets before anything is stored for later reading or logged.

A value is secret when its key is marked `x-secret` anywhere in the action's input or
output schema, or when its key name is one that always holds a secret (audit/redact.py,
re-exported here for the action code).
"""

from functools import cache
from typing import Any

from audit.redact import ALWAYS_SECRET, REDACTED, redact

__all__ = ["ALWAYS_SECRET", "REDACTED", "keys_for", "redact", "redact_for", "secret_keys"]


def secret_keys(schema: dict) -> frozenset[str]:
    """Property names marked `x-secret` anywhere in a JSON schema (including $defs)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if isinstance(prop, dict) and _is_secret(prop):
                    found.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return frozenset(found)


def _is_secret(prop: dict) -> bool:
    if prop.get("x-secret"):
        return True
    # Optional secrets are `anyOf: [{...x-secret}, {type: null}]`; dicts of secrets keep
    # the marker on `additionalProperties`.
    variants = prop.get("anyOf", []) + [prop.get("additionalProperties") or {}]
    return any(isinstance(v, dict) and v.get("x-secret") for v in variants)


@cache
def _keys_for(spec_key: tuple[str, int]) -> frozenset[str]:
    from actions.contract.registry import registry

    spec = registry.get(*spec_key)
    return ALWAYS_SECRET | secret_keys(spec.input_schema) | secret_keys(spec.output_schema)


def keys_for(spec) -> frozenset[str]:
    """Every key secret for `spec` (an ActionSpec): the always-secret names and its own."""
    return _keys_for(spec.key)


def redact_for(spec, value: Any) -> Any:
    """Redact with everything `spec` (an ActionSpec) marks as secret."""
    return redact(value, _keys_for(spec.key))
