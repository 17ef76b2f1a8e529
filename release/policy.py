"""Which lifecycle states fit which environment, and which environments run everything.

`build`, `select` and `promote` refuse a selection that does not fit (release/services.py):
only `released` in hosted live; no `dummy` or `erroring` outside local dev; an action
without tests (no test file of its stem) refused past local test.

At run time `local_dev` and `local_test` run every action of the code (ALLOW_ALL), so that
a developer and the test suite reach every action, dummies included (`not_implemented`);
the other environments run only what their manifest names (release/runtime.py).
"""

from config.environments import ENVIRONMENTS
from release.states import State

ALLOW_ALL = frozenset({"local_dev", "local_test"})
NEEDS_TESTS = frozenset({"local_qa", "hosted_test", "hosted_live"})
ACCEPTED_STATES: dict[str, frozenset[State]] = {
    "local_dev": frozenset(State),
    "local_test": frozenset(State) - {State.DUMMY, State.ERRORING},
    "local_qa": frozenset({State.POTENTIAL_RELEASE, State.UNDER_USER_TEST, State.RELEASED}),
    "hosted_test": frozenset({State.UNDER_USER_TEST, State.RELEASED}),
    "hosted_live": frozenset({State.RELEASED}),
}
assert tuple(ACCEPTED_STATES) == ENVIRONMENTS


def refusal(*, state: State, environment: str, has_tests: bool) -> str | None:
    """Why an action in `state` may not be released in `environment`; None if it may."""
    if state not in ACCEPTED_STATES[environment]:
        accepted = ", ".join(s for s in State if s in ACCEPTED_STATES[environment])
        return f"state {state} does not fit {environment} (accepts {accepted})"
    if environment in NEEDS_TESTS and not has_tests:
        return f"no test file: an action without tests is not released in {environment}"
    return None
