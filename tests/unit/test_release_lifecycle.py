"""The lifecycle's transition table, the environments' fit rules and the choice of
environment at start (release/lifecycle.py, release/policy.py, config/environments.py)."""

import os
import subprocess
import sys

import pytest

from config.environments import ENVIRONMENTS, ROOT
from release import lifecycle, policy
from release.lifecycle import TRANSITIONS, ForbiddenTransition, check_transition
from release.states import State

ALLOWED = [
    ("dummy", "under_dev"),
    ("under_dev", "potential_release"),
    ("under_dev", "erroring"),
    ("erroring", "under_dev"),
    ("potential_release", "under_user_test"),
    ("potential_release", "under_dev"),
    ("potential_release", "erroring"),
    ("under_user_test", "released"),
    ("under_user_test", "under_dev"),
    ("under_user_test", "erroring"),
    ("released", "reverted"),
    ("released", "erroring"),
    ("reverted", "under_dev"),
    ("reverted", "under_user_test"),
]


def test_the_table_is_the_documented_one():
    table = sorted((str(a), str(b)) for a, targets in TRANSITIONS.items() for b in targets)
    assert table == sorted(ALLOWED)
    assert set(TRANSITIONS) == set(State)
    docs = (ROOT / "docs" / "release.md").read_text()
    for a, b in ALLOWED:
        assert f"| `{a}` | `{b}` |" in docs, (a, b)


@pytest.mark.parametrize("current,target", ALLOWED)
def test_allowed_transitions_say_why(current, target):
    assert check_transition(State(current), State(target), todo=False)


FORBIDDEN = [(a, b) for a in State for b in State if (str(a), str(b)) not in ALLOWED and a != b]


@pytest.mark.parametrize("current,target", FORBIDDEN)
def test_every_other_transition_is_refused_with_the_reason(current, target):
    with pytest.raises(ForbiddenTransition, match=f"from {current} an action may go to"):
        check_transition(current, target, todo=False)


def test_a_dummy_leaves_dummy_only_once_its_handler_is_written():
    with pytest.raises(ForbiddenTransition, match="still declares a dummy"):
        check_transition(State.DUMMY, State.UNDER_DEV, todo=True)
    with pytest.raises(ForbiddenTransition, match="already released"):
        check_transition(State.RELEASED, State.RELEASED, todo=False)


def test_a_stored_state_wins_unless_the_code_contradicts_it():
    eff = lifecycle.effective_state
    assert eff(declared=State.UNDER_DEV, stored=State.RELEASED, todo=False) == State.RELEASED
    assert eff(declared=State.UNDER_DEV, stored=None, todo=False) == State.UNDER_DEV
    # a dummy made real since its state was stored takes its declared initial state
    assert eff(declared=State.UNDER_DEV, stored=State.DUMMY, todo=False) == State.UNDER_DEV
    assert eff(declared=State.DUMMY, stored=State.RELEASED, todo=True) == State.DUMMY


def test_which_states_fit_which_environment():
    fits = policy.refusal
    assert fits(state=State.DUMMY, environment="local_dev", has_tests=False) is None
    assert "does not fit local_test" in fits(
        state=State.DUMMY, environment="local_test", has_tests=True
    )
    assert "does not fit local_qa" in fits(
        state=State.ERRORING, environment="local_qa", has_tests=True
    )
    for state in set(State) - {State.RELEASED}:
        assert fits(state=state, environment="hosted_live", has_tests=True)
    assert fits(state=State.RELEASED, environment="hosted_live", has_tests=True) is None
    assert fits(state=State.UNDER_DEV, environment="local_test", has_tests=False) is None
    assert "no test file" in fits(state=State.RELEASED, environment="local_qa", has_tests=False)


def _start(**env_vars) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "SWITCHBOARD_ENV")
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, **env_vars},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unknown_environment_refuses_to_start():
    done = _start(SWITCHBOARD_ENV="production")
    assert done.returncode != 0
    assert "SWITCHBOARD_ENV='production' is not an environment" in done.stderr
    assert ", ".join(ENVIRONMENTS) in done.stderr


def test_an_environment_contradicting_the_settings_refuses_to_start():
    done = _start(SWITCHBOARD_ENV="local_qa", DJANGO_SETTINGS_MODULE="config.settings.local_test")
    assert done.returncode != 0
    assert "SWITCHBOARD_ENV='local_qa' but the settings module is config.settings.local_test" in (
        done.stderr
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_committed_manifests_pin_the_code_as_it_is(environment):
    """A released action whose code changed without a release (`release build`, then
    `promote`) runs unpinned where its manifest rules, and that environment's /health
    answers 503 `degraded` for as long as it runs. It happened: `system.index@1` changed on
    2026-11-25 and stayed pinned at its old hash in local_qa, hosted_test and hosted_live
    until 2026-11-27. Change a released action, release it in the same change."""
    from release import manifests, runtime

    assert runtime.drift(manifests.load(environment)) == []
