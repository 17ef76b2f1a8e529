"""Which lifecycle states may run in which environment.

Until the per-environment manifests (pinned by code hash) exist, an action is released in
an environment when its state is one that environment accepts. Local development and
local test accept dummies so that every planned action answers `not_implemented`.
"""

ACCEPTED_STATES = {
    "local_dev": {
        "dummy",
        "erroring",
        "under_dev",
        "potential_release",
        "under_user_test",
        "released",
    },
    "local_test": {
        "dummy",
        "erroring",
        "under_dev",
        "potential_release",
        "under_user_test",
        "released",
    },
    "local_qa": {"dummy", "potential_release", "under_user_test", "released"},
    "hosted_test": {"under_user_test", "released"},
    "hosted_live": {"released"},
}


def is_released(*, state: str, environment: str) -> bool:
    return state in ACCEPTED_STATES.get(environment, set())
