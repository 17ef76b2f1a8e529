"""The lifecycle of an action as data: the transition table and the stored states.

Each action version's state is stored in `release/lifecycle.json` (committed: a state
change is reviewed like code, and the published contract, which shows each state, stays
a function of the repository). The registry reads it at load; `manage.py release
transition` is the one writer, and records who, when and why in the admin audit log. The
`state=` of a declaration is only the initial state of an action the file does not name
yet (`dummy(...)` for a planned one, `under_dev` by default for `@action`).
"""

import json
from pathlib import Path

from release.states import State

STATES_FILE = Path(__file__).resolve().parent / "lifecycle.json"

# The transition table: from each state, the states it may move to, and why one would.
# docs/release.md shows the same table; tests/unit/test_release_lifecycle.py walks it.
TRANSITIONS: dict[State, dict[State, str]] = {
    State.DUMMY: {State.UNDER_DEV: "its code is written (the file has @action)"},
    State.UNDER_DEV: {
        State.POTENTIAL_RELEASE: "it works and has tests: a candidate",
        State.ERRORING: "it fails",
    },
    State.ERRORING: {State.UNDER_DEV: "it is being fixed"},
    State.POTENTIAL_RELEASE: {
        State.UNDER_USER_TEST: "users try it (local QA, hosted test)",
        State.UNDER_DEV: "more work first",
        State.ERRORING: "it fails",
    },
    State.UNDER_USER_TEST: {
        State.RELEASED: "users accepted it",
        State.UNDER_DEV: "users asked for changes",
        State.ERRORING: "it fails",
    },
    State.RELEASED: {
        State.REVERTED: "taken back out of the environments",
        State.ERRORING: "it fails",
    },
    State.REVERTED: {
        State.UNDER_DEV: "reworked",
        State.UNDER_USER_TEST: "tried again by users",
    },
}


class ForbiddenTransition(ValueError):
    """A transition the table does not allow, with the reason."""


def check_transition(current: State, target: State, *, todo: bool) -> str:
    """Why `current -> target` is allowed (the table's words); raises ForbiddenTransition
    saying why not. `todo`: the action's file still declares a dummy (no handler)."""
    if current == target:
        raise ForbiddenTransition(f"it is already {current}")
    allowed = TRANSITIONS[current]
    if target not in allowed:
        choices = ", ".join(allowed) or "nothing"
        raise ForbiddenTransition(f"from {current} an action may go to {choices}, not {target}")
    if todo and current == State.DUMMY:
        raise ForbiddenTransition("its file still declares a dummy: write the handler first")
    return allowed[target]


def key(name: str, version: int) -> str:
    return f"{name}@{version}"


def stored_states(path: Path = STATES_FILE) -> dict[str, State]:
    """The stored state of each action version, by `name@version`."""
    if not path.is_file():
        return {}
    return {k: State(v) for k, v in json.loads(path.read_text()).items()}


def write_states(states: dict[str, State], path: Path = STATES_FILE) -> None:
    rendered = {k: str(states[k]) for k in sorted(states)}
    path.write_text(json.dumps(rendered, indent=2) + "\n")


def effective_state(*, declared: State, stored: State | None, todo: bool) -> State:
    """The state an action is in: the stored one, if the code agrees that it is (or is
    not) a dummy; otherwise the declaration's (a dummy whose handler was merged since
    its state was stored takes its declared initial state until it is transitioned)."""
    if stored is None or (stored == State.DUMMY) != todo:
        return declared
    return stored
