"""Run a command, and run it again whenever it dies, until told to stop: `make run`'s
process supervision.

honcho (`make run`) stops every process of the Procfile as soon as one of them exits.
A user worker killed with SIGKILL (an out-of-memory kill, an operator, a fault test)
then took the web, the other worker, the ingresses and beat down with it. So `make run`
runs each Procfile command under this wrapper (the Makefile writes var/Procfile.run from
deploy/Procfile). A command that exits, for whatever reason, starts again after a pause.
The pause doubles while the command keeps dying young (RESPAWN_PAUSE_S to
RESPAWN_PAUSE_MAX_S), and starts over once it has run for STABLE_S.

Stopping stays honcho's. It sends SIGTERM (Ctrl-C: SIGINT) to each process group, so this
wrapper and its command get it together. The command shuts down as it always does, and
the wrapper then exits with its status instead of starting it again. A second signal, or
honcho's SIGKILL after its 5 s, ends both.

In production the supervisor restarts processes (systemd's `Restart=`, Kubernetes); the
Procfile lists the bare commands for it (docs/operations.md). Written by hand because
honcho has no restart, and supervisord would need a second list of the same commands.
"""

import os
import signal
import subprocess
import sys
import time

RESPAWN_PAUSE_S = float(os.environ.get("SWITCHBOARD_RESPAWN_PAUSE_S", "1"))
RESPAWN_PAUSE_MAX_S = 30.0
STABLE_S = 60.0


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: respawn.py COMMAND [ARG ...]", file=sys.stderr)
        return 2
    stopping = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True  # the command has the signal too: it is its process group's

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause = RESPAWN_PAUSE_S
    while True:
        started = time.monotonic()
        code = subprocess.Popen(argv).wait()  # a signal's handler runs, the wait goes on
        if stopping:
            return code if code >= 0 else 128 - code
        if time.monotonic() - started >= STABLE_S:
            pause = RESPAWN_PAUSE_S
        print(
            f"respawn: {argv[0]} exited with {code}; starting it again in {pause:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + pause
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return 128 + signal.SIGTERM
        pause = min(pause * 2, RESPAWN_PAUSE_MAX_S)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
