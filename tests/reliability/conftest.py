"""Fixtures of the fault tests: a private PostgreSQL and RabbitMQ for the session (never
the shared ones), prepared like `make test` prepares the shared ones; a Switchboard stack
per queue type (classic, quorum) against them."""

import os
import shutil
import tempfile
from pathlib import Path

import pika
import pytest

from tests.reliability.services import PrivatePostgres, PrivateRabbit, _port_base
from tests.reliability.stack import POISON, ROOT, Ledger, Stack, manage

# Both by default (docs/reliability.md); SWITCHBOARD_FAULT_QUEUE_TYPES=classic runs one.
QUEUE_TYPES = tuple(os.environ.get("SWITCHBOARD_FAULT_QUEUE_TYPES", "classic,quorum").split(","))


class Private:
    """The private services and what the stack needs to use them."""

    def __init__(self, pg: PrivatePostgres, mq: PrivateRabbit, tmp: Path):
        self.pg, self.mq, self.tmp = pg, mq, tmp
        self.env = {
            **os.environ,
            **pg.env(),
            **mq.env(),
            "DJANGO_SETTINGS_MODULE": "config.settings.local_test",
            "SWITCHBOARD_LOGS_DIR": str(tmp / "logs"),
            "SWITCHBOARD_TEST_CRASH_ON": POISON,
            "PATH": f"{mq.bin}:{os.environ.get('PATH', '')}",  # preflight's rabbitmqctl
        }
        from django.conf import settings

        self.dbname = settings.DATABASES["default"]["NAME"]
        self.vhost = settings.BROKER_VHOST
        host = mq.env()["SWITCHBOARD_BROKER_HOST"]
        self.admin_url = settings.BROKER_URL_ADMIN.replace(settings.BROKER_HOST, host)
        self.user_url = settings.BROKER_URL_USER.replace(settings.BROKER_HOST, host)

    def ledger(self) -> Ledger:
        return Ledger(self.pg.port, self.dbname)

    def delete_queues(self) -> None:
        """A queue cannot be redeclared with another type: start each type afresh."""
        connection = pika.BlockingConnection(pika.URLParameters(self.admin_url))
        try:
            channel = connection.channel()
            for name in ("switchboard.user.actions", "switchboard.admin.actions",
                         "switchboard.maintenance", "switchboard.user.dead",
                         "switchboard.admin.dead"):  # fmt: skip
                channel.queue_delete(name)
        finally:
            connection.close()


@pytest.fixture(scope="session")
def private():
    if shutil.which("runuser") is None and os.geteuid() == 0:
        pytest.skip("runuser is needed to run a private PostgreSQL as root")
    tmp = Path(tempfile.mkdtemp(prefix="sb-faults-"))
    pg, mq = PrivatePostgres(), PrivateRabbit()
    try:
        pg.init()
        mq.init()
        services = Private(pg, mq, tmp)
        env = {**services.env, "SWITCHBOARD_FRESH_DB": "1"}
        import subprocess
        import sys

        subprocess.run(
            [sys.executable, "deploy/preflight.py"], cwd=ROOT, env=env, check=True,
            capture_output=True, timeout=600,
        )  # fmt: skip
        manage(services.env, "migrate_schemas", "--shared", "--noinput", "-v", "0")
        manage(services.env, "seed_demo")
        yield services
    finally:
        mq.destroy()
        pg.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def token(private):
    out = manage(
        private.env,
        "shell",
        "-c",
        "from tenants.models import User; from tenants.tokens import token_issue_pair; "
        "print(token_issue_pair(user=User.objects.get(email='member@acme.test'))"
        "['access_token'])",
    )
    return out.strip().splitlines()[-1]


@pytest.fixture(scope="module", params=QUEUE_TYPES)
def stack(request, private, token):
    """Web, two user workers (4 threads each) and beat on the private services, with the
    queues of one type."""
    queue_type = request.param
    private.delete_queues()
    env = {**private.env, "SWITCHBOARD_QUEUE_TYPE": queue_type}
    log_dir = private.tmp / f"stack-{queue_type}"
    running = Stack(env=env, log_dir=log_dir, port=18700 + _port_base()).start()
    running.queue_type = queue_type  # type: ignore[attr-defined]
    try:
        running.probe(token, timeout=90)
        yield running
    finally:
        running.stop()
        kept = Path(os.environ.get("SWITCHBOARD_FAULT_LOGS", ROOT / "var" / "faults-logs"))
        shutil.rmtree(kept / queue_type, ignore_errors=True)
        shutil.copytree(log_dir, kept / queue_type, dirs_exist_ok=True)  # for a post-mortem
