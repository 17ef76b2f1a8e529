"""Hostile-input guard, step 6 of the pipeline (docs/security.md).

`inspect(spec, payload)` runs after the payload fitted its schema (step 5) and before
authorisation. It walks every key and string of the raw payload, picks the rule set each
field's schema marker calls for (actions.edge.guard.fields) and raises `rejected_input` with a
category (actions.edge.guard.rules.CATEGORIES) and the field path, never the value.

It is the second line. The first: no input reaches SQL except as a bound parameter and no
payload key ever becomes a query keyword (tests/unit/test_sql_safety.py scans for both).
"""

from typing import Any

from actions.contract import ssrf
from actions.contract.errors import ActionError, ErrorCode
from actions.edge.guard import fields, rules
from actions.edge.guard.fields import Kind
from actions.edge.guard.rules import CATEGORIES  # noqa: F401  (re-exported for callers and tests)

# Bounds on the parts of a payload that no schema bounds (open JSON objects); the envelope
# already caps the body (256 KiB) and the nesting (32 levels).
MAX_DEPTH = 20
MAX_KEYS = 200
MAX_ITEMS = 1000
MAX_KEY_LENGTH = 128
MAX_STRING_LENGTH = 20_000
MAX_NODES = 20_000


class Rejected(ActionError):
    """`rejected_input`, carrying the category and the path for the security event."""

    def __init__(self, category: str, path: str, reason: str = "") -> None:
        label = category.replace("_", " ")
        super().__init__(
            ErrorCode.REJECTED_INPUT,
            f"The field {path} was refused ({label}{': ' + reason if reason else ''}).",
            details={"category": category, "path": path},
        )
        self.category = category
        self.path = path


def reject(category: str, path: str, reason: str = "") -> None:
    raise Rejected(category, path, reason)


def inspect(spec, payload: dict) -> None:
    """Refuse `payload` (raise Rejected) if any key or string in it looks hostile."""
    schema = spec.input_schema
    _Walker(schema.get("$defs", {})).walk(payload, schema, "payload", 1)


def inspect_envelope(request: dict) -> None:
    """The envelope's identifiers: JSON Schema's `$` also matches before a final newline,
    so `"acme\\n"` fits `^[a-z]...$`; refuse control characters in them outright."""
    for key in ("id", "action", "tenant"):
        value = request.get(key)
        if isinstance(value, str) and rules.has_control(value, prose=False):
            reject(rules.CONTROL, key)
    correlation = (request.get("meta") or {}).get("correlation_id")
    if isinstance(correlation, str) and rules.has_control(correlation, prose=False):
        reject(rules.CONTROL, "meta/correlation_id")


class _Walker:
    def __init__(self, defs: dict) -> None:
        self.defs = defs
        self.nodes = 0

    def walk(self, value: Any, schema: dict | None, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            reject(rules.OVERSIZE, path, f"more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            reject(rules.TOO_DEEP, path, f"nested deeper than {MAX_DEPTH}")
        if isinstance(value, dict):
            self._object(value, schema, path, depth)
        elif isinstance(value, list):
            if len(value) > MAX_ITEMS:
                reject(rules.OVERSIZE, path, f"more than {MAX_ITEMS} items")
            for index, item in enumerate(value):
                item_schema = fields.child(schema, self.defs, index, item)
                self.walk(item, item_schema, f"{path}/{index}", depth + 1)
        elif isinstance(value, str):
            self._string(value, fields.kind(schema, self.defs), path)

    def _object(self, value: dict, schema: dict | None, path: str, depth: int) -> None:
        if len(value) > MAX_KEYS:
            reject(rules.OVERSIZE, path, f"more than {MAX_KEYS} keys")
        open_keys = fields.is_open_object(schema, self.defs)
        for key, item in value.items():
            key_path = f"{path}/{_path_part(key)}"
            self._key(key, key_path, open_keys)
            self.walk(item, fields.child(schema, self.defs, key, item), key_path, depth + 1)

    def _key(self, key: str, path: str, client_chosen: bool) -> None:
        category = rules.key_category(key)
        if category:
            reject(category, path)
        if not client_chosen:
            return  # a property the schema declared: its name is ours
        if len(key) > MAX_KEY_LENGTH:
            reject(rules.OVERSIZE, path, f"a key longer than {MAX_KEY_LENGTH}")
        if rules.has_control(key, prose=False):
            reject(rules.CONTROL, path)
        category = rules.category_of(key, prose=False)
        if category:
            reject(category, path)

    def _string(self, text: str, kind: Kind, path: str) -> None:
        if len(text) > MAX_STRING_LENGTH:
            reject(rules.OVERSIZE, path, f"longer than {MAX_STRING_LENGTH}")
        # Line breaks and RTL isolates are ordinary in prose and in other systems' data.
        prose = kind in (Kind.FREE_TEXT, Kind.SECRET, Kind.OPEN)
        if rules.has_control(text, prose=prose):
            reject(rules.CONTROL, path)
        if kind == Kind.SECRET:
            return
        if kind == Kind.URL or (kind == Kind.OPEN and ssrf.looks_like_url(text)):
            why = ssrf.problem(text)
            if why:
                reject(rules.SSRF, path, why.replace("_", " "))
        category = rules.category_of(text, prose=kind == Kind.FREE_TEXT)
        if category:
            reject(category, path)


def _path_part(key: str) -> str:
    """A client-chosen key as it may appear in a path: never the key itself if hostile."""
    safe = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    if len(key) <= 64 and safe and rules.key_category(key) is None:
        return key
    return "(key)"
