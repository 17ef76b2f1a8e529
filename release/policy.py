"""Which lifecycle states may run in which environment.

Until the per-environment manifests (pinned by code hash) exist, an action is released in
an environment when its state is one that environment accepts. Local development and
local test accept dummies so that every planned action answers `not_implemented`.
"""

from release.states import State

# Local machines run all work in progress, dummies included; a reverted action nowhere.
_LOCAL = frozenset(State) - {State.REVERTED}
ACCEPTED_STATES: dict[str, frozenset[State]] = {
    "local_dev": _LOCAL,
    "local_test": _LOCAL,
    "local_qa": frozenset(
        {State.DUMMY, State.POTENTIAL_RELEASE, State.UNDER_USER_TEST, State.RELEASED}
    ),
    "hosted_test": frozenset({State.UNDER_USER_TEST, State.RELEASED}),
    "hosted_live": frozenset({State.RELEASED}),
}


def is_released(*, state: str, environment: str) -> bool:
    return state in ACCEPTED_STATES.get(environment, frozenset())
