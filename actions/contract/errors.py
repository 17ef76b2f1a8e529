"""The closed list of error codes of the message API (docs/message-api.md#error-codes)."""

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_ENVELOPE = "invalid_envelope"
    VALIDATION_ERROR = "validation_error"
    REJECTED_INPUT = "rejected_input"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    UNKNOWN_ACTION = "unknown_action"
    NOT_RELEASED = "not_released"
    NOT_IMPLEMENTED = "not_implemented"
    NOT_SUBSCRIBED = "not_subscribed"
    CONNECTOR_ERROR = "connector_error"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    INTERNAL_ERROR = "internal_error"


# code -> (HTTP status, retryable, default user-facing message)
ERROR_TABLE: dict[ErrorCode, tuple[int, bool, str]] = {
    ErrorCode.INVALID_ENVELOPE: (400, False, "The request could not be understood."),
    ErrorCode.VALIDATION_ERROR: (400, False, "Some of the information given is not valid."),
    ErrorCode.REJECTED_INPUT: (400, False, "The request contains content that is not allowed."),
    ErrorCode.UNAUTHENTICATED: (401, False, "Please sign in."),
    ErrorCode.FORBIDDEN: (403, False, "You are not allowed to do this."),
    ErrorCode.UNKNOWN_ACTION: (404, False, "This function does not exist."),
    ErrorCode.NOT_RELEASED: (404, False, "This function is not available here yet."),
    ErrorCode.NOT_IMPLEMENTED: (501, False, "This function is coming soon."),
    ErrorCode.NOT_SUBSCRIBED: (403, False, "Your organisation has not subscribed to this."),
    ErrorCode.CONNECTOR_ERROR: (502, True, "An outside service did not answer as expected."),
    ErrorCode.RATE_LIMITED: (429, True, "Too many requests; please try again shortly."),
    ErrorCode.NOT_FOUND: (404, False, "Not found."),
    ErrorCode.CONFLICT: (409, False, "This conflicts with an earlier request."),
    ErrorCode.TIMEOUT: (504, True, "This took too long; please try again."),
    ErrorCode.UNAVAILABLE: (503, True, "The service is briefly unavailable; please try again."),
    ErrorCode.INTERNAL_ERROR: (500, True, "Something went wrong on our side."),
}


class ActionError(Exception):
    """An expected failure that becomes the `error` object of a response envelope."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        user_message: str | None = None,
        http_status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.details = details or {}
        self.user_message = user_message
        self.http_status = http_status
        self.retryable = retryable  # None: the code's default (ERROR_TABLE)

    @property
    def status(self) -> int:
        return self.http_status or ERROR_TABLE[self.code][0]

    def as_error(self) -> dict[str, Any]:
        _, retryable, default_user_message = ERROR_TABLE[self.code]
        return {
            "code": self.code.value,
            "message": self.message,
            "user_message": self.user_message or default_user_message,
            "details": self.details,
            "retryable": retryable if self.retryable is None else self.retryable,
        }


def http_status_for(code: str) -> int:
    return ERROR_TABLE[ErrorCode(code)][0]


# --- the expected failures of the services, as action errors ------------------------------
# The services raise their own exceptions (tenants does not import actions); the executor
# turns them into action errors here, in one place, instead of a block in every handler.
def service_exceptions() -> tuple[type[Exception], ...]:
    """The exceptions `action_error_from` maps. Imported when first needed: this module is
    imported before Django's apps are ready."""
    from tenants.config import ConfigInvalid
    from tenants.errors import TenancyError
    from tenants.tokens import InvalidToken

    return (TenancyError, ConfigInvalid, InvalidToken)


def action_error_from(exc: BaseException) -> ActionError | None:
    """The ActionError a handler's exception stands for; None for a bug (an internal error).

    A TenancyError carries its message-API code; a config that does not fit the tenant
    config schema is a `validation_error`; a bad token (e.g. an invitation's) is
    `unauthenticated`.
    """
    if isinstance(exc, ActionError):
        return exc
    from tenants.config import ConfigInvalid
    from tenants.errors import TenancyError
    from tenants.tokens import InvalidToken

    if isinstance(exc, TenancyError):
        return ActionError(ErrorCode(exc.code), exc.message, details=exc.details)
    if isinstance(exc, ConfigInvalid):
        return ActionError(
            ErrorCode.VALIDATION_ERROR,
            "The config does not fit the tenant config schema.",
            details={"errors": exc.errors},
        )
    if isinstance(exc, InvalidToken):
        return ActionError(ErrorCode.UNAUTHENTICATED, str(exc))
    return None
