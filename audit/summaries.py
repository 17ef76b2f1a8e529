"""What the logs keep of a payload: its shape, never its values, and scrubbed text.

A tenant's action log is read by its owners and shipped to log stores; a message's
values (personal data, secrets in fields nobody marked) stay in the tenant's database.
The log keeps keys and sizes, with secret keys shown as redacted.
"""

import re
from typing import Any

from audit.redact import ALWAYS_SECRET, REDACTED, redact

MAX_KEYS = 50
MAX_DEPTH = 3
MAX_TEXT = 4000

# Secrets that can hide in free text (exception messages, stacks): bearer tokens, JWTs,
# `password=...`-style pairs.
_TEXT_SECRETS = [
    # A token-looking value (16+ token characters), not any word: "needs a bearer token."
    # is prose and stays as it is.
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}"), "Bearer " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (
        re.compile(
            r"(?i)\b(" + "|".join(sorted(ALWAYS_SECRET, key=len, reverse=True)) + r")"
            r"(['\"]?\s*[:=]\s*['\"]?)[^\s'\",;}&]+"
        ),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"(?i)(://[^:/\s@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),  # URL passwords
]


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shape(value: Any, keys: frozenset[str] = ALWAYS_SECRET, depth: int = 0) -> Any:
    """Keys and sizes of `value`: `{"email": "str:16", "password": "[redacted]"}`."""
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return f"object:{len(value)}"
        out: dict[str, Any] = {}
        for i, (key, item) in enumerate(value.items()):
            if i >= MAX_KEYS:
                out["..."] = f"{len(value) - MAX_KEYS} more"
                break
            # A client's key may hold anything, NUL included, which PostgreSQL's jsonb
            # refuses when a log query's answer is stored: keep it printable.
            key = _UNPRINTABLE.sub("?", str(key)[:100])
            out[key] = REDACTED if key.lower() in keys else shape(item, keys, depth + 1)
        return out
    if isinstance(value, list):
        return f"list:{len(value)}"
    if isinstance(value, str):
        return f"str:{len(value)}"
    if value is None:
        return None
    return type(value).__name__  # bool, int, float


def scrub_text(text: str | None, limit: int = MAX_TEXT) -> str | None:
    """Free text with token- and password-like substrings redacted, bounded."""
    if text is None:
        return None
    text = str(text)
    for pattern, replacement in _TEXT_SECRETS:
        text = pattern.sub(replacement, text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def scrub(value: Any) -> Any:
    """Secret keys redacted and strings scrubbed, at any depth (error details, events)."""
    value = redact(value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value
