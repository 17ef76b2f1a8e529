"""`make run`'s supervision (deploy/respawn.py): a process that dies starts again and the
others run on; stopping stops everything. Real processes, under honcho as `make run`
runs them, from a Procfile the wrapper writes as the Makefile has it write one."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESPAWN = str(ROOT / "deploy" / "respawn.py")
# Appends its pid to a file, then does what its plan says for this start (its number is
# the file's count of pids): `kill` itself with SIGKILL, `exitN` with status N, `lateN`
# the same a second later, or `run` until stopped (and so once the plan is done).
CHILD = """
import os, signal, sys, time
path, plan = sys.argv[1], sys.argv[2].split(",")
with open(path, "a") as f:
    f.write(f"{os.getpid()}\\n")
start = len(open(path).read().split())
step = plan[start - 1] if start <= len(plan) else "run"
if step == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
if step.startswith("late"):
    time.sleep(1)
if step.startswith(("exit", "late")):
    sys.exit(int(step[4:]))
while True:
    time.sleep(0.05)
"""


def _env(**extra: str) -> dict:
    return {**os.environ, "SWITCHBOARD_RESPAWN_PAUSE_S": "0.1", **extra}


def _pids(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, not yet reaped


def _kill_all(*pids: int) -> None:
    """Whatever a failed test left running: each process's group, then the process."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def procfile(tmp_path):
    """A Procfile of two entries running CHILD, as deploy/Procfile runs the stack's."""
    child = tmp_path / "child.py"
    child.write_text(CHILD)

    def make(**entries: str) -> Path:
        path = tmp_path / "Procfile"
        path.write_text(
            "".join(f"{name}: {sys.executable} {child} {args}\n" for name, args in entries.items())
        )
        return path

    return make


@pytest.fixture
def wrapped(procfile, tmp_path):
    """A wrapper running CHILD with `plan` (its own process group, as honcho starts each
    command): (the wrapper, the file of its command's pids). Killed at the end."""
    started: list[tuple[subprocess.Popen, Path]] = []

    def start(plan: str, **env: str) -> tuple[subprocess.Popen, Path]:
        starts = tmp_path / "starts"
        wrapper = subprocess.Popen(
            [sys.executable, RESPAWN, "--from", str(procfile(a=f"{starts} {plan}")), "a"],
            env=_env(**env),
            start_new_session=True,
        )
        started.append((wrapper, starts))
        return wrapper, starts

    yield start
    for wrapper, starts in started:
        _kill_all(wrapper.pid, *_pids(starts))


def test_a_command_that_dies_starts_again_and_a_stop_stops_it(wrapped):
    # Killed at its first start, failing at its second: each time started again.
    wrapper, starts = wrapped("kill,exit3,run")
    _wait_for(lambda: len(_pids(starts)) == 3)
    third = _pids(starts)[-1]
    assert _alive(third)
    os.killpg(wrapper.pid, signal.SIGTERM)  # what honcho sends when it stops
    assert wrapper.wait(timeout=10) == 128 + signal.SIGTERM  # the command's status
    assert not _alive(third)
    assert len(_pids(starts)) == 3  # and it was not started again


def test_a_stop_sent_to_the_wrapper_alone_reaches_its_command(wrapped):
    wrapper, starts = wrapped("run")
    _wait_for(lambda: len(_pids(starts)) == 1)
    os.kill(wrapper.pid, signal.SIGTERM)  # `kill <pid>`, not the group
    assert wrapper.wait(timeout=10) == 128 + signal.SIGTERM
    assert not _alive(_pids(starts)[0]) and len(_pids(starts)) == 1


def test_a_first_run_that_fails_is_not_retried(wrapped):
    """A port taken or a bad setting: honcho should stop the rest and show why."""
    wrapper, starts = wrapped("exit3")
    assert wrapper.wait(timeout=10) == 3
    assert len(_pids(starts)) == 1


def test_a_first_run_that_fails_after_a_while_starts_again(wrapped):
    """An unhandled error after running a while (STABLE_S, here 0.5 s) is a crash."""
    wrapper, starts = wrapped("late3,run", SWITCHBOARD_RESPAWN_STABLE_S="0.5")
    _wait_for(lambda: len(_pids(starts)) == 2)
    assert _alive(_pids(starts)[-1]) and wrapper.poll() is None


@pytest.mark.timeout(60)
def test_under_honcho_a_killed_process_comes_back_and_the_others_run_on(procfile, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run = tmp_path / "Procfile.run"
    source = procfile(a=f"{a} run", b=f"{b} run")
    subprocess.run([sys.executable, RESPAWN, "--write", str(source), str(run)], check=True)
    honcho = Path(sys.executable).parent / "honcho"
    manager = subprocess.Popen(
        [str(honcho), "-f", str(run), "-d", str(tmp_path), "start"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: len(_pids(a)) == 1 and len(_pids(b)) == 1)
        (first_a,), (first_b,) = _pids(a), _pids(b)
        # The command is a process of its own, whose command line is the command's alone:
        # `pkill -f child.py` would reach it, never its wrapper.
        wrapper = int(Path(f"/proc/{first_a}/stat").read_text().rsplit(")", 1)[1].split()[1])
        assert "child.py" not in Path(f"/proc/{wrapper}/cmdline").read_text()
        os.kill(first_a, signal.SIGKILL)  # as the fault tests and the OOM killer do
        _wait_for(lambda: len(_pids(a)) == 2)
        assert _alive(_pids(a)[-1]) and _alive(first_b) and manager.poll() is None
        os.kill(manager.pid, signal.SIGINT)  # Ctrl-C
        manager.wait(timeout=20)
        assert not _alive(_pids(a)[-1]) and not _alive(first_b)
        output = manager.stdout.read().decode()
        assert "respawn: a exited with -9; starting it again" in output
    finally:
        _kill_all(manager.pid, *_pids(a), *_pids(b))
