"""An artifact built for hosted_test, started as a real process from its directory against
the test database: it answers `not_released` for an action it left out, runs a selected
one, and reports a code change as drift (at start, in /health, in `release status`)."""

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from release import lifecycle, manifests, services

SCRIPT = """
import json, os, uuid
from config.environments import settings_module
os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())
import django
django.setup()
from django.conf import settings
from django.test import Client
from actions.models import ActionRecord
from actions.worker.executor import execute
client = Client()
def post(action, payload):
    env = {"api": "1", "id": str(uuid.uuid4()), "action": action, "tenant": "platform"}
    response = client.post("/api/v1/actions", data={**env, "payload": payload},
                           content_type="application/json", secure=True)
    return env["id"], response.status_code, response.json()
_, _, forgot = post("auth.forgot", {"email": "owner@acme.test"})
login_id, status, accepted = post(
    "auth.login", {"email": "owner@acme.test", "password": os.environ["DEMO_PASSWORD"]})
ran = execute(channel="user", schema="public", record_id=login_id, worker="artifact")
record = ActionRecord.objects.get(id=login_id)
health = client.get("/health", secure=True).json()
print(json.dumps({"environment": settings.SWITCHBOARD_ENV, "forgot": forgot,
                  "login_status": status, "ran": ran, "login_result": sorted(record.result or {}),
                  "release_health": health["parts"]["release"]}))
"""


@pytest.fixture(scope="module")
def artifact(tmp_path_factory, django_db_blocker) -> Path:
    """Built for hosted_test with auth.login selected (from copies of the release files)."""
    root = tmp_path_factory.mktemp("release")
    shutil.copy(lifecycle.STATES_FILE, root / "lifecycle.json")
    shutil.copytree(manifests.MANIFEST_DIR, root / "manifests")
    files = services.Files(root / "lifecycle.json", root / "manifests", root / "build")
    selection = {"environment": "hosted_test", "actions": {"auth.login@1": {}}}
    manifests.save(selection, "selected", files.manifests)
    with django_db_blocker.unblock():
        outcome = services.release_build(environment="hosted_test", by="artifact-test", files=files)
    target = Path(outcome.data["artifact"])
    built = manifests.load("hosted_test", "", target / "release" / "manifests")
    assert sorted(built["actions"]) == ["auth.login@1"]
    return target


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SWITCHBOARD_"))}
    return env | {
        "SWITCHBOARD_ENV": "hosted_test",
        "SWITCHBOARD_SECRET_KEY": secrets.token_urlsafe(64),
        # A hosted environment does not start without a key-encryption key (credentials).
        "SWITCHBOARD_KEK": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "SWITCHBOARD_DB_NAME": settings.DATABASES["default"]["NAME"],
        # A vhost of its own that does not exist: the record the artifact accepts is run
        # here by its own executor, never by the suite's workers.
        "SWITCHBOARD_BROKER_VHOST": "switchboard_no_such_vhost",
        "SWITCHBOARD_BROKER_USER_PASSWORD": settings.BROKER_USER_PASSWORD,
        "SWITCHBOARD_BROKER_ADMIN_PASSWORD": settings.BROKER_ADMIN_PASSWORD,
        "SWITCHBOARD_BROKER_CLIENT_PASSWORD": settings.BROKER_CLIENT_PASSWORD,
        "SWITCHBOARD_BROKER_OPERATOR_PASSWORD": settings.BROKER_OPERATOR_PASSWORD,
        "DEMO_PASSWORD": os.environ.get("SWITCHBOARD_DEMO_PASSWORD", "switchboard-demo"),
    }


def _run(directory: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv], cwd=directory, env=_env(), capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip


def test_the_artifact_holds_the_framework_and_only_the_selected_actions(artifact):
    assert (artifact / "actions/catalog/auth/auth_login.py").is_file()
    assert not (artifact / "actions/catalog/auth/auth_forgot.py").exists()
    assert (artifact / "actions/catalog/auth/__init__.py").is_file()
    assert not (artifact / "tests").exists()
    marker = json.loads((artifact / "release/artifact.json").read_text())
    assert marker["environment"] == "hosted_test"
    assert "auth.forgot" in marker["withheld"] and "auth.login" not in marker["withheld"]


def test_the_artifact_starts_as_hosted_test_and_releases_only_what_was_selected(artifact):
    check = _run(artifact, "manage.py", "check")
    assert check.returncode == 0, check.stderr
    done = _run(artifact, "-c", SCRIPT)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["environment"] == "hosted_test"
    assert seen["forgot"]["error"]["code"] == "not_released", seen["forgot"]
    assert seen["login_status"] == 202
    assert seen["ran"] == "ok", seen
    assert "access_token" in seen["login_result"]
    assert seen["release_health"] == {"ok": True, "drift": []}


def test_a_code_change_in_the_artifact_shows_as_drift(artifact, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(artifact, changed)
    login = changed / "actions/catalog/auth/auth_login.py"
    login.write_text(login.read_text() + "\n# a hot fix made on the server\n")
    status = _run(changed, "manage.py", "release", "status", "--json")
    assert status.returncode == 3, status.stderr
    assert "release drift in hosted_test: auth.login@1 is pinned at" in status.stderr
    row = next(r for r in json.loads(status.stdout)["actions"] if r["action"] == "auth.login@1")
    assert row["environments"]["hosted_test"]["drift"] is True
    done = _run(changed, "-c", SCRIPT)
    assert done.returncode == 0, done.stderr
    health = json.loads(done.stdout.strip().splitlines()[-1])["release_health"]
    assert health["drift"] == ["auth.login@1"] and health["ok"] is False
