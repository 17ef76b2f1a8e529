"""Assertions shared by tests: every answer is a valid response envelope."""

from actions.contract.envelope import validator


def assert_envelope(body: dict) -> dict:
    errors = list(validator("response").iter_errors(body))
    assert not errors, [e.message for e in errors]
    return body
