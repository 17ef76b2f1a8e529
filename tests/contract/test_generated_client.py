"""A client generated from contract/openapi.json by openapi-python-client: it generates
every model with no warning, and it signs in and runs an action against a real server
(uvicorn, as `make run` starts it, with the test suite's workers)."""

import importlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PACKAGE = "switchboard_message_api_client"

pytestmark = pytest.mark.usefixtures("workers")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("client") / "client"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        [BIN / "openapi-python-client", "generate", "--path", ROOT / "contract" / "openapi.json",
         "--output-path", out, "--meta", "none"],
        capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    # Anything the generator could not turn into a model is reported as a warning.
    for alarm in ("Unable to", "Warning", "warning", "duplicate", "skipp"):
        assert alarm not in said, said
    sys.path.insert(0, str(out.parent))
    try:
        yield importlib.import_module(out.name)
    finally:
        sys.path.remove(str(out.parent))


def test_every_component_became_a_model(generated):
    import json

    schemas = json.loads((ROOT / "contract" / "openapi.json").read_text())["components"]
    models = importlib.import_module(f"{generated.__name__}.models")
    for name, schema in schemas["schemas"].items():
        title = schema["title"]
        class_name = title[0].upper() + title[1:]
        assert hasattr(models, class_name), f"no model for component {name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = open(tmp_path_factory.mktemp("web") / "web.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/api/v1/index", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, "uvicorn exited"
                assert time.monotonic() < deadline, "uvicorn did not answer"
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_the_generated_client_signs_in_and_runs_an_action(generated, server):
    client_mod = importlib.import_module(f"{generated.__name__}.client")
    submit = importlib.import_module(f"{generated.__name__}.api.default.user_action_submit")
    models = importlib.import_module(f"{generated.__name__}.models")

    login = models.AuthLoginV1Request(
        api="1", id=str(uuid.uuid4()), action="auth.login", tenant="acme",
        payload=models.LoginIn(email="member@acme.test", password=DEMO_PASSWORD),
    )  # fmt: skip
    with client_mod.Client(base_url=server, timeout=httpx.Timeout(30)) as anonymous:
        answer = submit.sync_detailed(client=anonymous, body=login, wait=10)
    assert answer.status_code == 200, answer.content
    envelope = answer.parsed
    assert isinstance(envelope, models.ResponseEnvelope)
    assert envelope.status == "ok"
    token = envelope.result["access_token"]

    me = models.AuthMeV1Request(
        api="1", id=str(uuid.uuid4()), action="auth.me", tenant="acme", payload=models.Empty()
    )
    with client_mod.AuthenticatedClient(base_url=server, token=token) as signed_in:
        answer = submit.sync_detailed(client=signed_in, body=me, wait=10)
    assert answer.status_code == 200, answer.content
    assert answer.parsed.status == "ok"
    assert answer.parsed.result["email"] == "member@acme.test"
