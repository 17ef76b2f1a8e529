"""Private PostgreSQL and RabbitMQ for the fault tests: the tests stop, kill and restart
them, so they never touch the shared services (docs/reliability.md). Each is started in a
temporary directory on its own ports and always stopped and removed afterwards."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("SWITCHBOARD_PG_BIN", "/usr/lib/postgresql/15/bin"))
RABBIT_BIN = Path(os.environ.get("SWITCHBOARD_RABBIT_BIN", "/usr/lib/rabbitmq/bin"))


def _port_base() -> int:
    """Ports of this run's private services, apart per SWITCHBOARD_TEST_NS.

    Every port here lies below the kernel's ephemeral range (32768-60999 by default):
    a port inside it can be taken as the local end of any outgoing connection, and a
    private service restarted by a fault test could then not bind its own port again (CI
    saw PostgreSQL fail with "Address already in use" on 55432, nothing listening)."""
    ns = os.environ.get("SWITCHBOARD_TEST_NS", "")
    return 100 * (sum(ns.encode()) % 40)


def _below_ephemeral(port: int) -> int:
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    if port >= low:
        raise RuntimeError(f"port {port} is inside the ephemeral range (from {low})")
    return port


def answers(port: int, timeout: float = 0.5) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
        return True
    except OSError:
        return False


def wait_until(check, timeout: float, what: str, every: float = 0.2) -> float:
    """Poll `check` until true; returns the seconds it took, raises after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(every)
    raise TimeoutError(f"{what} not within {timeout:.0f} s")


def _as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user if we are."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"]
    return []


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = _below_ephemeral(23432 + _port_base() // 10)
        self.dir = Path(tempfile.mkdtemp(prefix="sb-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"

    def env(self) -> dict[str, str]:
        return {"SWITCHBOARD_DB_HOST": "127.0.0.1", "SWITCHBOARD_DB_PORT": str(self.port)}

    def init(self) -> "PrivatePostgres":
        if answers(self.port):
            raise RuntimeError(f"port {self.port} is taken: a private PostgreSQL left over?")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        subprocess.run(
            [*_as_postgres(), str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        return self.start()

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        try:
            subprocess.run(
                [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                 str(self.log), *args],
                check=True, capture_output=True, timeout=timeout,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            # Say why: pg_ctl's own words and the end of the server's log (the directory
            # is removed afterwards).
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"pg_ctl {args[0]} failed ({exc.returncode}): "
                f"{exc.stderr.decode(errors='replace')[-1000:]}\n--- postgres.log ---\n{log}"
            ) from exc

    def start(self) -> "PrivatePostgres":
        # fsync off: a PostgreSQL restart (what the tests do) loses nothing without it, and
        # the shared machine's disk is not what is under test.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
        )
        try:
            self._ctl("start", "-w", "-t", "60", "-o", options)
        except RuntimeError as exc:  # once more after a pause (seen once: reason not kept)
            print(f"[reliability] private PostgreSQL did not start, trying again: {exc}")
            time.sleep(2)
            self._ctl("start", "-w", "-t", "60", "-o", options)
        wait_until(lambda: answers(self.port), 30, "private PostgreSQL")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-w", "-t", "60", "-m", mode)

    def restart(self) -> None:
        """Stop (every connection is cut) and start again, as an operator would."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRabbit:
    """A RabbitMQ node of its own (own node name, ports, data and logs; no plugins)."""

    def __init__(self) -> None:
        base = _port_base()
        self.port = _below_ephemeral(23872 + base // 10)
        self.dist_port = _below_ephemeral(25700 + base // 10)
        # rabbitmqctl's own distribution ports (35672-35682 by default: ephemeral too)
        self.ctl_ports = (
            _below_ephemeral(26700 + base // 10),
            _below_ephemeral(26710 + base // 10),
        )
        self.node = f"sbfaults{base}@localhost"
        self.dir = Path(tempfile.mkdtemp(prefix="sb-faults-mq-"))
        self.home = self.dir / "home"
        self.bin = self.dir / "bin"  # a `rabbitmqctl` that talks to this node (preflight)
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {"SWITCHBOARD_BROKER_HOST": f"127.0.0.1:{self.port}"}

    def _node_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.home),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CTL_DIST_PORT_MIN": str(self.ctl_ports[0]),
            "RABBITMQ_CTL_DIST_PORT_MAX": str(self.ctl_ports[1]),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_PID_FILE": str(self.dir / "rabbit.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq"),  # rabbitmq.conf
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def init(self) -> "PrivateRabbit":
        if answers(self.port):
            raise RuntimeError(f"port {self.port} is taken: a private RabbitMQ left over?")
        self.home.mkdir()
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(os.urandom(16).hex())
        cookie.chmod(0o400)
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq.conf").write_text(
            "loopback_users = none\nlog.console = false\nlog.file.level = warning\n"
            "disk_free_limit.absolute = 10MB\n"
        )
        (self.dir / "advanced.config").write_text("[].\n")
        (self.dir / "rabbitmq-env.conf").write_text("")
        self.bin.mkdir()
        ctl = self.bin / "rabbitmqctl"
        exports = " ".join(
            f"{k}='{v}'" for k, v in self._node_env().items() if k.startswith(("RABBITMQ", "HOME"))
        )
        ctl.write_text(
            f'#!/bin/sh\nexport {exports}\nexec {RABBIT_BIN / "rabbitmqctl"} -n {self.node} "$@"\n'
        )
        ctl.chmod(0o755)
        self.proc = subprocess.Popen(
            [str(RABBIT_BIN / "rabbitmq-server")],
            env=self._node_env(),
            stdout=open(self.dir / "server.out", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_serving(120)
        return self

    def ctl(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [str(self.bin / "rabbitmqctl"), *args], capture_output=True, timeout=timeout, text=True
        )
        if done.returncode:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr[-500:]}")
        return done.stdout

    def wait_serving(self, timeout: float) -> float:
        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"private RabbitMQ exited; see {self.dir}/log")
            return answers(self.port)

        return wait_until(up, timeout, "private RabbitMQ")

    def stop_app(self) -> None:
        """The broker stops serving (every connection is closed); the node stays."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.wait_serving(60)

    def destroy(self) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    self.ctl("stop", timeout=60)
                except Exception:
                    pass
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)  # our node's own process group
                    self.proc.wait(timeout=10)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
