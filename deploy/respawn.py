"""`make run`'s process supervision: each Procfile command runs again whenever it dies,
until it is told to stop.

honcho (`make run`) stops every process of its Procfile as soon as one of them exits: a
user worker killed with SIGKILL (an out-of-memory kill, an operator, a fault test) took
the web, the other worker, the ingresses and beat down with it. So `make run` gives
honcho a Procfile of its own (`--write`: var/Procfile.run, one line per line of
deploy/Procfile), whose every command is this wrapper naming an entry of deploy/Procfile
(`--from deploy/Procfile NAME`). The wrapper runs that entry's command with
`sh -c "exec COMMAND"` (one command per entry, as in deploy/Procfile): the command is a
process of its own with its own command line, so `pkill -f celery` reaches the worker,
not the wrapper. When the command exits, for whatever reason, the wrapper starts it
again after a pause: RESPAWN_PAUSE_S, doubling to RESPAWN_PAUSE_MAX_S while the command
keeps dying young, and from the start again once it ran STABLE_S. A first run that fails
on its own within STABLE_S (an error status: a port taken, a bad setting) is not retried:
the wrapper exits with that status, and honcho stops the rest and shows why, as before.
A run killed by a signal (SIGKILL, the OOM killer, a crash), a first run that failed
later (an unhandled error after a while), and any later run start again.

Stopping stays honcho's: it sends SIGTERM to each command's process group, so the wrapper
and its command get it together (a Ctrl-C in the terminal reaches honcho, which does the
same). The wrapper passes SIGTERM and SIGINT sent to it alone on to the command, never
starts it again once told to stop, and exits with the command's status.

In production the supervisor restarts processes (systemd's `Restart=`, Kubernetes): give
it deploy/Procfile's commands as they are (docs/operations.md). Written by hand because
honcho has no restart, and supervisord would need a second list of the same commands.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

RESPAWN_PAUSE_S = float(os.environ.get("SWITCHBOARD_RESPAWN_PAUSE_S", "1"))
RESPAWN_PAUSE_MAX_S = 30.0
STABLE_S = float(os.environ.get("SWITCHBOARD_RESPAWN_STABLE_S", "60"))
LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")  # a Procfile line, as honcho reads it


def entries(procfile: Path) -> dict[str, str]:
    """{name: command} of a Procfile."""
    found = {}
    for line in procfile.read_text().splitlines():
        match = LINE.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def write(procfile: Path, target: Path) -> None:
    """Write honcho's Procfile: every entry of `procfile` under this wrapper."""
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--from", str(procfile.resolve())]
    lines = [f"{name}: {shlex.join([*wrapper, name])}\n" for name in entries(procfile)]
    target.write_text("".join(lines))


def run(command: str, name: str) -> int:
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)  # it may have it already (the group's): no harm

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause, first = RESPAWN_PAUSE_S, True
    while not stopping:
        started = time.monotonic()
        # exec: the command is the child itself (this sh would not exec it on its own), so
        # that a signal for it reaches it and its command line is its own.
        child = subprocess.Popen(["/bin/sh", "-c", f"exec {command}"])
        if stopping:  # told while it started: it was not in the group yet
            child.terminate()
        print(f"respawn: {name} runs as pid {child.pid}", file=sys.stderr, flush=True)
        code = child.wait()  # a signal's handler runs, the wait goes on
        ran = time.monotonic() - started
        if stopping or (first and code > 0 and ran < STABLE_S):
            return code if code >= 0 else 128 - code
        first = False
        if ran >= STABLE_S:
            pause = RESPAWN_PAUSE_S
        print(
            f"respawn: {name} exited with {code}; starting it again in {pause:g} s",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + pause
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        pause = min(pause * 2, RESPAWN_PAUSE_MAX_S)
    return 128 + signal.SIGTERM


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--write":
        write(Path(argv[1]), Path(argv[2]))
        return 0
    if len(argv) == 3 and argv[0] == "--from":
        command = entries(Path(argv[1])).get(argv[2])
        if command is not None:
            return run(command, argv[2])
    print("usage: respawn.py --write PROCFILE TARGET | --from PROCFILE NAME", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
