"""Expected failures of tenant services. `code` is a message-API error code; the action
layer turns a TenancyError into an ActionError (tenants does not import actions)."""

from typing import Any


class TenancyError(Exception):
    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def not_found(message: str) -> TenancyError:
    return TenancyError("not_found", message)


def conflict(message: str, **details: Any) -> TenancyError:
    return TenancyError("conflict", message, details=details)
