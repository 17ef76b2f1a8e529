"""Hostile-input guard, step 6 of the pipeline (docs/security.md).

Runs after the payload fitted its schema and before authorisation; raises
`rejected_input` with a category and the field path, never echoing the value.
"""

import re
from typing import Any

from actions.errors import ActionError, ErrorCode

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_POLLUTING_KEYS = frozenset({"__proto__", "constructor", "prototype"})


def _walk(value: Any, path: str):
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}/{key}", key, True
            yield from _walk(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}/{index}")
    elif isinstance(value, str):
        yield path, value, False


def inspect(spec, payload: dict) -> None:
    for path, text, is_key in _walk(payload, "payload"):
        if is_key and text in _POLLUTING_KEYS:
            reject("prototype_pollution", path)
        if _CONTROL.search(text):
            reject("control_characters", path)


def reject(category: str, path: str) -> None:
    raise ActionError(
        ErrorCode.REJECTED_INPUT,
        f"The field {path} was refused ({category.replace('_', ' ')}).",
        details={"category": category, "path": path},
    )
