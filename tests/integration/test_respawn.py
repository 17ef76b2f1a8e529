"""`make run`'s supervision (deploy/respawn.py): a process that dies starts again and the
others run on; stopping stops everything. Real processes, under honcho as `make run`
runs them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESPAWN = str(ROOT / "deploy" / "respawn.py")
# Appends its pid to a file, SIGKILLs itself while the file holds fewer than `die` lines,
# else sleeps until it is stopped.
CHILD = """
import os, signal, sys, time
path, die = sys.argv[1], int(sys.argv[2])
with open(path, "a") as f:
    f.write(f"{os.getpid()}\\n")
if len(open(path).read().split()) <= die:
    os.kill(os.getpid(), signal.SIGKILL)
while True:
    time.sleep(0.05)
"""


def _env() -> dict:
    return {**os.environ, "SWITCHBOARD_RESPAWN_PAUSE_S": "0.1"}


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
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead: its parent has not reaped it yet.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_command_that_dies_starts_again_and_a_stop_stops_it(tmp_path):
    starts = tmp_path / "starts"
    wrapper = subprocess.Popen(
        [sys.executable, RESPAWN, sys.executable, "-c", CHILD, str(starts), "2"],
        env=_env(),
        start_new_session=True,  # its own process group, as honcho starts each command
    )
    try:
        _wait_for(lambda: len(_pids(starts)) == 3)  # killed twice, started a third time
        third = _pids(starts)[-1]
        assert _alive(third)
        os.killpg(wrapper.pid, signal.SIGTERM)  # what honcho sends when it stops
        assert wrapper.wait(timeout=10) == 128 + signal.SIGTERM  # the command's status
        assert not _alive(third)
        assert len(_pids(starts)) == 3  # and it was not started again
    finally:
        if wrapper.poll() is None:
            os.killpg(wrapper.pid, signal.SIGKILL)


@pytest.mark.timeout(60)
def test_under_honcho_a_killed_process_comes_back_and_the_others_run_on(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    procfile = tmp_path / "Procfile"
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    procfile.write_text(
        f"a: {sys.executable} {RESPAWN} {sys.executable} {child} {a} 0\n"
        f"b: {sys.executable} {RESPAWN} {sys.executable} {child} {b} 0\n"
    )
    honcho = Path(sys.executable).parent / "honcho"
    manager = subprocess.Popen(
        [str(honcho), "-f", str(procfile), "-d", str(tmp_path), "start"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: len(_pids(a)) == 1 and len(_pids(b)) == 1)
        (first_a,), (first_b,) = _pids(a), _pids(b)
        os.kill(first_a, signal.SIGKILL)  # as the fault tests and the OOM killer do
        _wait_for(lambda: len(_pids(a)) == 2)
        assert _alive(_pids(a)[-1]) and _alive(first_b) and manager.poll() is None
        os.kill(manager.pid, signal.SIGINT)  # Ctrl-C
        manager.wait(timeout=20)
        assert not _alive(_pids(a)[-1]) and not _alive(first_b)
        output = manager.stdout.read().decode()
        assert "exited with -9; starting it again" in output
    finally:
        if manager.poll() is None:
            os.killpg(manager.pid, signal.SIGKILL)
