"""Lifecycle states of an action (ARCHITECTURE.md section 3): the one spelling, used by
the index, the release policy and the published schemas."""

from enum import StrEnum


class State(StrEnum):
    DUMMY = "dummy"
    ERRORING = "erroring"
    UNDER_DEV = "under_dev"
    POTENTIAL_RELEASE = "potential_release"
    UNDER_USER_TEST = "under_user_test"
    RELEASED = "released"
    REVERTED = "reverted"
