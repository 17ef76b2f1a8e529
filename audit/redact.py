"""Key-based redaction: the key names that always hold a secret, and the walk that hides
them. It lives in the sink so that the logs and the action records (actions/contract/redaction.py
adds the keys an action's schema marks `x-secret`) hide the same keys."""

from typing import Any

REDACTED = "[redacted]"
ALWAYS_SECRET = frozenset(
    {
        "password",
        "current_password",
        "new_password",
        "token",
        "access_token",
        "refresh_token",
        "reset_token",
        "secret",
        "client_secret",
        "api_key",
        "apikey",
        "authorization",
        "cookie",
        "private_key",
        "credentials",
        "data_ciphertext",
    }
)


def redact(value: Any, keys: frozenset[str] = ALWAYS_SECRET) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if str(k).lower() in keys else redact(v, keys)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, keys) for v in value]
    return value
