"""Preflight for `make run` / `make test`: reach PostgreSQL and RabbitMQ, create the
database, provision the RabbitMQ vhost and its four users (docs/operations.md), and warn
when Redis is missing.

Run with the project's settings module in DJANGO_SETTINGS_MODULE. Exits 1 with a clear
message (what, where, how to start it) when a service cannot be reached.
"""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    db: dict[str, Any] = settings.DATABASES["default"]
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
            fresh = os.environ.get("SWITCHBOARD_FRESH_DB") == "1"
            if fresh and not db["NAME"].startswith("switchboard_test"):
                # `make test` recreates its database; never one that is not a test one
                # (SWITCHBOARD_DB_NAME exported for `make run` would otherwise be lost).
                fail(
                    "PostgreSQL (test database)",
                    where,
                    f"refusing to recreate {db['NAME']!r}: not a switchboard_test database",
                    "unset SWITCHBOARD_DB_NAME (or name a switchboard_test_* database)",
                )
            if exists and fresh:
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


# Who may do what on the vhost (configure, write, read: RabbitMQ permission regexes).
# Internal services: the user channel's login cannot touch the admin exchanges or queues.
# External AMQP clients: publish to an ingress exchange, nothing else. Their replies come by
# direct reply-to (amq.rabbitmq.reply-to), which needs no queue permission and which the
# broker binds to the sending channel (docs/message-api.md): no queues of their own, so no
# queue one client could name as another's reply address, and no reading others' messages.
_NOT_ADMIN = r"^(?!switchboard\.admin|switchboard\.ingress\.admin).*"
_NOTHING = r"^$"
BROKER_USERS = {
    "switchboard_user": ("BROKER_USER_PASSWORD", (_NOT_ADMIN, _NOT_ADMIN, _NOT_ADMIN)),
    "switchboard_admin": ("BROKER_ADMIN_PASSWORD", (".*", ".*", ".*")),
    "switchboard_client": (
        "BROKER_CLIENT_PASSWORD",
        (_NOTHING, r"^switchboard\.ingress\.user$", _NOTHING),
    ),
    "switchboard_operator": (
        "BROKER_OPERATOR_PASSWORD",
        (_NOTHING, r"^switchboard\.ingress\.(user|admin)$", _NOTHING),
    ),
}


def _fingerprint() -> str:
    material = repr([(u, getattr(settings, p), perms) for u, (p, perms) in BROKER_USERS.items()])
    return hashlib.sha256(material.encode()).hexdigest()


def broker() -> None:
    host = settings.BROKER_HOST
    vhost = settings.BROKER_VHOST
    name, _, port = host.partition(":")
    try:
        socket.create_connection((name, int(port or 5672)), timeout=3).close()
    except OSError as exc:
        fail("RabbitMQ", host, str(exc), HOW_MQ)
    urls = [
        settings.BROKER_URL_USER,
        settings.BROKER_URL_ADMIN,
        settings.BROKER_URL_CLIENT,
        settings.BROKER_URL_OPERATOR,
    ]
    # Provisioned already, with these very permissions (rabbitmqctl takes ~1 s a call)?
    marker = Path(settings.VAR_DIR) / f"rabbitmq-{vhost}.provisioned"
    if marker.exists() and marker.read_text() == _fingerprint():
        if all(_can_connect(url) for url in urls):
            return
    if shutil.which("rabbitmqctl") is None:
        if all(_can_connect(url) for url in urls):
            return  # a broker someone else provisions (see docs/operations.md)
        fail(
            "RabbitMQ (channel credentials)",
            f"{host} vhost {vhost}",
            "the channel users do not exist and rabbitmqctl is not here to create them",
            "create them (see docs/operations.md) or set SWITCHBOARD_BROKER_URL_USER/_ADMIN",
        )
    print(f"provisioning RabbitMQ vhost {vhost} and its users ...")
    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True, timeout=60)
        for user, (password_setting, perms) in BROKER_USERS.items():
            password = getattr(settings, password_setting)
            subprocess.run(
                ["rabbitmqctl", "-q", "add_user", user, password], capture_output=True, timeout=60
            )
            _rabbitmqctl("change_password", user, password)
            _rabbitmqctl("set_permissions", "-p", vhost, user, *perms)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        fail("RabbitMQ (provisioning)", host, f"{exc} {detail.decode()[:300]}", HOW_MQ)
    if not all(_can_connect(url) for url in urls):
        fail("RabbitMQ", f"{host} vhost {vhost}", "the channel users still cannot log in", HOW_MQ)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(_fingerprint())


def cache() -> None:
    """Redis holds the rate-limit counters. Without it the API still answers (rate limits
    fail open, docs/security.md), so this warns instead of stopping."""
    import redis

    conf: dict[str, Any] = settings.SWITCHBOARD  # values of mixed types
    url: str = conf["REDIS_URL"]
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        where = url.rsplit("@", 1)[-1]
        print(
            f"\n*** warning: Redis cannot be reached at {where}: {exc}\n    rate limits are "
            "off until it is. Start it with: redis-server --daemonize yes --bind 127.0.0.1 "
            '--port 6379 --save "" --appendonly no\n',
            file=sys.stderr,
        )


CHROMIUM = "/usr/bin/chromium"


def browser() -> None:
    """`make test` drives Debian's Chromium (the dashboard's end-to-end tests): install it
    with apt-get when it is missing and this runs as root; say how otherwise."""
    if Path(CHROMIUM).exists():
        return
    how = "install it with: apt-get update && apt-get install -y chromium"
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        fail("Chromium (for the dashboard's browser tests)", CHROMIUM, "not installed", how)
    print("installing Debian's chromium for the dashboard's browser tests ...")
    quiet = {"capture_output": True, "timeout": 900, "env": {**os.environ,
             "DEBIAN_FRONTEND": "noninteractive"}}  # fmt: skip
    subprocess.run(["apt-get", "update", "-qq"], **quiet)  # type: ignore[call-overload]
    done = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], **quiet)  # type: ignore[call-overload]
    if done.returncode != 0 or not Path(CHROMIUM).exists():
        fail("Chromium", CHROMIUM, (done.stderr or b"").decode()[-300:], how)


if __name__ == "__main__":
    database()
    broker()
    cache()
    if os.environ.get("SWITCHBOARD_FRESH_DB") == "1":  # make test: the browser tests need it
        browser()
    print(
        f"preflight ok: PostgreSQL database {settings.DATABASES['default']['NAME']}, "
        f"RabbitMQ vhost {settings.BROKER_VHOST}"
    )
