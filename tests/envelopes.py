"""Assertions shared by tests: every answer is a valid response envelope."""

from actions.contract.envelope import validator


def assert_envelope(body: dict) -> dict:
    errors = list(validator("response").iter_errors(body))
    assert not errors, [e.message for e in errors]
    return body


def query(api, tokens, who, action, payload=None, tenant="acme") -> dict:
    """Send an admin-channel action as one of the demo users (`tokens`), wait, check."""
    from tests.conftest import envelope

    response = api(envelope(action, payload or {}, tenant=tenant), token=tokens[who], admin=True)
    return assert_envelope(response.json())
