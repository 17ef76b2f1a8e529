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
    ) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.details = details or {}
        self.user_message = user_message
        self.http_status = http_status

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
            "retryable": retryable,
        }


def http_status_for(code: str) -> int:
    return ERROR_TABLE[ErrorCode(code)][0]
