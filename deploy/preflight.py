"""Preflight for `make run` / `make test`: reach PostgreSQL and RabbitMQ, create the
database, provision the RabbitMQ vhost and the two channel credentials.

Run with the project's settings module in DJANGO_SETTINGS_MODULE. Exits 1 with a clear
message (what, where, how to start it) when a service cannot be reached.
"""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from kombu import Connection  # noqa: E402

HOW_PG = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main "
    "start   (or point SWITCHBOARD_DB_HOST/PORT/USER/PASSWORD at a running server)"
)
HOW_MQ = (
    "start it with: rabbitmq-server -detached   (or point SWITCHBOARD_BROKER_HOST / "
    "SWITCHBOARD_BROKER_URL_USER / SWITCHBOARD_BROKER_URL_ADMIN at a running broker)"
)


def fail(what: str, where: str, why: str, how: str) -> None:
    print(f"\n*** {what} cannot be reached at {where}: {why}\n    {how}\n", file=sys.stderr)
    sys.exit(1)


def database() -> None:
    db = settings.DATABASES["default"]
    where = f"{db['HOST']}:{db['PORT']} (user {db['USER']})"
    try:
        with psycopg.connect(
            host=db["HOST"],
            port=db["PORT"],
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
            autocommit=True,
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
            ).fetchone()
            if exists and os.environ.get("SWITCHBOARD_FRESH_DB") == "1":
                conn.execute(
                    psycopg.sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                        psycopg.sql.Identifier(db["NAME"])
                    )
                )
                exists = None
            if not exists:
                conn.execute(
                    psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(db["NAME"]))
                )
                print(f"created database {db['NAME']}")
    except psycopg.OperationalError as exc:
        fail("PostgreSQL", where, str(exc).strip().splitlines()[0], HOW_PG)


def _can_connect(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return True
    except Exception:
        return False


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def broker() -> None:
    host = settings.BROKER_HOST
    vhost = settings.BROKER_VHOST
    name, _, port = host.partition(":")
    try:
        socket.create_connection((name, int(port or 5672)), timeout=3).close()
    except OSError as exc:
        fail("RabbitMQ", host, str(exc), HOW_MQ)
    if _can_connect(settings.BROKER_URL_USER) and _can_connect(settings.BROKER_URL_ADMIN):
        return
    if shutil.which("rabbitmqctl") is None:
        fail(
            "RabbitMQ (channel credentials)",
            f"{host} vhost {vhost}",
            "the channel users do not exist and rabbitmqctl is not here to create them",
            "create them (see docs/operations.md) or set SWITCHBOARD_BROKER_URL_USER/_ADMIN",
        )
    print(f"provisioning RabbitMQ vhost {vhost} and the channel users ...")
    # The user channel may not configure or write the admin exchanges (or their queues).
    not_admin = r"^(?!switchboard\.admin|switchboard\.ingress\.admin).*"
    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True, timeout=60)
        for name, password in (
            ("switchboard_user", settings.BROKER_USER_PASSWORD),
            ("switchboard_admin", settings.BROKER_ADMIN_PASSWORD),
        ):
            subprocess.run(
                ["rabbitmqctl", "-q", "add_user", name, password], capture_output=True, timeout=60
            )
            _rabbitmqctl("change_password", name, password)
        _rabbitmqctl("set_permissions", "-p", vhost, "switchboard_user", not_admin, not_admin, ".*")
        _rabbitmqctl("set_permissions", "-p", vhost, "switchboard_admin", ".*", ".*", ".*")
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        fail("RabbitMQ (provisioning)", host, f"{exc} {detail.decode()[:300]}", HOW_MQ)
    if not (_can_connect(settings.BROKER_URL_USER) and _can_connect(settings.BROKER_URL_ADMIN)):
        fail("RabbitMQ", f"{host} vhost {vhost}", "the channel users still cannot log in", HOW_MQ)


if __name__ == "__main__":
    database()
    broker()
    print(
        f"preflight ok: PostgreSQL database {settings.DATABASES['default']['NAME']}, "
        f"RabbitMQ vhost {settings.BROKER_VHOST}"
    )
