"""actions/contract/errors.py: the services' expected failures become action errors in one place."""

from actions.contract.errors import ActionError, ErrorCode, action_error_from, service_exceptions
from tenants.config import ConfigInvalid
from tenants.errors import TenancyError, conflict
from tenants.tokens import InvalidToken


def test_each_service_exception_has_its_code():
    err = action_error_from(conflict("taken already"))
    assert (err.code, err.message) == (ErrorCode.CONFLICT, "taken already")
    err = action_error_from(TenancyError("forbidden", "no", details={"a": 1}))
    assert (err.code, err.details) == (ErrorCode.FORBIDDEN, {"a": 1})
    invalid = [{"path": "theme", "reason": "not an object"}]
    err = action_error_from(ConfigInvalid(invalid))
    assert err.code == ErrorCode.VALIDATION_ERROR and err.details == {"errors": invalid}
    err = action_error_from(InvalidToken("expired"))
    assert (err.code, err.message) == (ErrorCode.UNAUTHENTICATED, "expired")


def test_an_action_error_is_itself_and_a_bug_is_none():
    own = ActionError(ErrorCode.NOT_FOUND, "gone")
    assert action_error_from(own) is own
    assert action_error_from(KeyError("bug")) is None
    assert not any(issubclass(KeyError, kind) for kind in service_exceptions())
