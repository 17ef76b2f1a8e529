"""Issue 13, findings 3 and 4: no signing key in the code, weak keys refused in hosted
environments, a local key per checkout; `check --deploy` clean with hosted settings."""

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config.keys import key_weakness

ROOT = Path(__file__).resolve().parent.parent.parent
STRONG = secrets.token_urlsafe(64)
BROKER = {
    f"SWITCHBOARD_BROKER_{who}_PASSWORD": f"{who.lower()}-pw"
    for who in ("USER", "ADMIN", "CLIENT", "OPERATOR")
} | {"SWITCHBOARD_KEK_FILE": "/run/secrets/switchboard-kek"}  # hosted needs a KEK too


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def _import(module: str, **env: str) -> subprocess.CompletedProcess:
    return _run(["-c", f"import {module} as s; print(s.SECRET_KEY)"], **env)


@pytest.mark.parametrize(
    "key",
    [
        "secret",
        "insecure-local-key-change-me-for-any-hosted-environment",
        "hosted-secret",
        "a" * 80,
        "ab" * 40,
        secrets.token_urlsafe(20),  # random but short
        "django-insecure-" + secrets.token_urlsafe(50),
        "0123456789" * 6,  # long, ten distinct characters, little entropy
    ],
)
def test_hosted_settings_refuse_a_weak_signing_key(key):
    assert key_weakness(key) is not None
    for module in ("config.settings.hosted_test", "config.settings.hosted_live"):
        run = _import(module, SWITCHBOARD_SECRET_KEY=key, **BROKER)
        assert run.returncode != 0
        assert "SWITCHBOARD_SECRET_KEY is too weak" in run.stderr
        message = run.stderr.strip().splitlines()[-1]
        assert key not in message.replace("import secrets; print(secrets.", "")  # no echo


def test_hosted_settings_take_a_strong_key_and_need_one():
    for strong in (STRONG, secrets.token_hex(32)):
        run = _import("config.settings.hosted_live", SWITCHBOARD_SECRET_KEY=strong, **BROKER)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == strong
    missing = _import("config.settings.hosted_live", **BROKER)
    assert missing.returncode != 0 and "SWITCHBOARD_SECRET_KEY must be set" in missing.stderr


def test_no_signing_key_is_written_in_the_code():
    from config.settings import base

    assert base.SECRET_KEY == ""
    for path in (ROOT / "config").rglob("*.py"):
        if path.name == "keys.py":  # lists the known weak keys, to refuse them
            continue
        assert "insecure-local-key" not in path.read_text(), path


@pytest.mark.parametrize("module", ["config.settings.local_dev", "config.settings.local_qa"])
def test_a_local_key_is_generated_once_per_checkout(tmp_path, module):
    first = _import(module, SWITCHBOARD_VAR_DIR=str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert key_weakness(key) is None
    stored = tmp_path / "a" / "secret_key"
    assert stored.read_text().strip() == key
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    again = _import(module, SWITCHBOARD_VAR_DIR=str(tmp_path / "a"))
    assert again.stdout.strip() == key  # the same key on every start of this checkout
    other = _import(module, SWITCHBOARD_VAR_DIR=str(tmp_path / "b"))
    assert other.stdout.strip() not in ("", key)  # another checkout, another key
    given = _import(module, SWITCHBOARD_VAR_DIR=str(tmp_path / "a"), SWITCHBOARD_SECRET_KEY=STRONG)
    assert given.stdout.strip() == STRONG


def test_check_deploy_is_clean_with_hosted_settings():
    run = _run(
        ["manage.py", "check", "--deploy"],
        DJANGO_SETTINGS_MODULE="config.settings.hosted_live",
        SWITCHBOARD_SECRET_KEY=STRONG,
        SWITCHBOARD_ALLOWED_HOSTS="api.switchboard.example",
        **BROKER,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for warning in ("W002", "W004", "W008", "W012", "W016", "W009"):
        assert f"security.{warning}" not in output, output
