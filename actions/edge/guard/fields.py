"""Which rules fit which field: read from the action's input JSON Schema.

The schema markers of actions/contract/payloads.py decide: `x-secret` (only control characters are
checked: a password may hold any printable character and is never shown or queried),
`x-free-text` (prose rules), `x-url` / `format: uri` (URL rules incl. SSRF). Any other
string is an identifier-like field (strict rules). Values under an object with no declared
properties (`JsonObject`: webhook bodies, flow graphs) are `open`: strict rules, with the
SSRF rules for any string that looks like a URL, and their keys are inspected too.
"""

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    STRICT = "strict"
    FREE_TEXT = "free_text"
    URL = "url"
    SECRET = "secret"
    OPEN = "open"


def _resolve(schema: dict, defs: dict) -> dict:
    seen = 0
    while "$ref" in schema and seen < 20:
        schema = {
            **defs.get(schema["$ref"].rsplit("/", 1)[-1], {}),
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
        seen += 1
    return schema


def _own_kind(schema: dict) -> Kind | None:
    if schema.get("x-secret"):
        return Kind.SECRET
    if schema.get("x-free-text"):
        return Kind.FREE_TEXT
    if schema.get("x-url") or schema.get("format") == "uri":
        return Kind.URL
    return None


def _branches(schema: dict, defs: dict) -> list[dict]:
    """The schema itself, or its non-null alternatives (Optional[...] and unions)."""
    schema = _resolve(schema, defs)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if not alternatives:
        return [schema]
    out = []
    for branch in alternatives:
        branch = _resolve(branch, defs)
        if branch.get("type") != "null":
            # Markers on the union itself (Field(json_schema_extra=...)) apply to each branch.
            out.extend(_branches({**_markers(schema), **branch}, defs))
    return out or [schema]


def _markers(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if k.startswith("x-") or k == "format"}


def child(schema: dict | None, defs: dict, key: str | int, value: Any) -> dict | None:
    """The sub-schema for `value` at `key` of a container described by `schema`.

    None means "no declared schema": an open value.
    """
    if schema is None:
        return None
    for branch in _branches(schema, defs):
        inherited = _markers(branch)
        if isinstance(key, int) and "items" in branch:
            return {**inherited, **_resolve(branch["items"], defs)} if branch["items"] else None
        if isinstance(key, str):
            props = branch.get("properties") or {}
            if key in props:
                return _resolve(props[key], defs)
            extra = branch.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                return {**inherited, **_resolve(extra, defs)}
    return None


def kind(schema: dict | None, defs: dict) -> Kind:
    """How a string at this schema is checked."""
    if schema is None:
        return Kind.OPEN
    kinds = {_own_kind(b) for b in _branches(schema, defs)} | {_own_kind(schema)}
    for candidate in (Kind.SECRET, Kind.URL, Kind.FREE_TEXT):
        if candidate in kinds:
            return candidate
    return Kind.STRICT


def is_open_object(schema: dict | None, defs: dict) -> bool:
    """An object whose keys the schema does not fix (its keys come from the client)."""
    if schema is None:
        return True
    for branch in _branches(schema, defs):
        if branch.get("type") == "object" and not branch.get("properties"):
            return True
    return False
