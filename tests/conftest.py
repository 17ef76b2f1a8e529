"""Test fixtures. Integration tests use the real PostgreSQL and RabbitMQ prepared by
`make test` (fresh database `switchboard_test[_NS]`, migrated and seeded; vhost
`switchboard_test[_NS]`) and real Celery workers started here, one per channel."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = os.environ.get("SWITCHBOARD_DEMO_PASSWORD", "switchboard-demo")


@pytest.fixture(scope="session")
def django_db_setup():
    """The database is prepared by `make test` (preflight, migrate_schemas, seed_demo)."""


@pytest.fixture(autouse=True)
def _db_access(django_db_blocker):
    # Real commits: workers in other processes must see what the tests write.
    with django_db_blocker.unblock():
        yield
        # A test that started an ASGI lifespan (or an ingress) configured this process's
        # connection pool: off again, so that later tests' queries stay on the thread's own
        # connection (CaptureQueriesContext reads that one).
        from actions.connections import tenant_connections

        tenant_connections.close()


def _start_worker(channel: str, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"worker-{channel}.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--channel",
            channel,
            "--pool",
            "threads",
            "--concurrency",
            "4",
            "-n",
            f"{channel}-test@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )


def _start_ingress(channel: str, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"ingress-{channel}.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "manage.py", "amqp_ingress", "--channel", channel, "--threads", "4"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )


def _all_up(health) -> bool:
    found = health.workers(timeout=0.5)
    if not all(any(h.startswith(f"{c}-test@") for h in found[c]) for c in ("user", "admin")):
        return False
    try:
        return all(health.ingress_consumers(c)["consumers"] for c in ("user", "admin"))
    except Exception:  # the queue is declared by the ingress process as it starts
        return False


def run_workers():
    """Start one real worker and one AMQP ingress process per channel; yield them; stop."""
    from django.conf import settings

    from actions.edge import health

    log_dir = Path(settings.VAR_DIR)
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = {f"worker-{c}": _start_worker(c, log_dir) for c in ("user", "admin")}
    procs |= {f"ingress-{c}": _start_ingress(c, log_dir) for c in ("user", "admin")}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _all_up(health):
                break
            for name, proc in procs.items():
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited; see {log_dir}/{name}.log")
        else:
            pytest.fail(f"workers and ingress did not come up in 60 s; logs in {log_dir}")
        yield procs
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def workers(django_db_blocker):
    """One real worker and one AMQP ingress process per channel for the whole session."""
    yield from run_workers()


def new_id() -> str:
    return str(uuid.uuid4())


def envelope(action: str, payload: dict | None = None, *, tenant: str = "acme", **extra):
    return {
        "api": "1",
        "id": new_id(),
        "action": action,
        "tenant": tenant,
        "payload": payload if payload is not None else {},
        **extra,
    }


@pytest.fixture
def api(client):
    """POST an envelope to a channel's REST endpoint: api(env, token=..., wait=...)."""

    def send(
        env,
        *,
        token: str | None = None,
        wait: float | None = 10,
        admin: bool = False,
        raw: bytes | None = None,
    ):
        url = "/api/v1/admin/actions" if admin else "/api/v1/actions"
        if wait is not None:
            url += f"?wait={wait}"
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        body = raw if raw is not None else json.dumps(env)
        return client.post(url, data=body, content_type="application/json", **headers)

    return send


@pytest.fixture(scope="session")
def tokens(django_db_blocker):
    """Access tokens of the demo users, issued directly (auth.login has its own tests)."""
    from tenants.models import User
    from tenants.tokens import token_issue_pair

    with django_db_blocker.unblock():
        return {u.email: token_issue_pair(user=u)["access_token"] for u in User.objects.all()}


@pytest.fixture
def audited(monkeypatch):
    """The admin-audit entries written during the test (the log itself is audit's)."""
    from audit import admin_log as audit_services

    entries = []
    real = audit_services.admin_audit_write

    def record(**entry):
        entries.append(entry)
        real(**entry)

    monkeypatch.setattr(audit_services, "admin_audit_write", record)
    return entries
