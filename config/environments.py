"""The five environments (ARCHITECTURE.md section 9) and how a process picks its own.

`SWITCHBOARD_ENV` names the environment; the entry points (manage.py, ASGI, WSGI, Celery)
turn it into `DJANGO_SETTINGS_MODULE=config.settings.<env>` when that is not set. Without
it, a built artifact (release/artifact.json) starts as the environment it was built for,
and a checkout as `local_dev`. An unknown name, or one that contradicts the settings
module, stops the process at start with a message saying what is allowed.
"""

import json
import os
from pathlib import Path

ENVIRONMENTS = ("local_dev", "local_test", "local_qa", "hosted_test", "hosted_live")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACT_FILE = ROOT / "release" / "artifact.json"  # only in a built artifact


class UnknownEnvironment(SystemExit):
    """Raised at start: the process refuses to run in an environment it does not know."""


def _known(name: str, source: str) -> str:
    if name not in ENVIRONMENTS:
        raise UnknownEnvironment(
            f"{source}={name!r} is not an environment; use one of {', '.join(ENVIRONMENTS)}."
        )
    return name


def artifact_environment() -> str | None:
    """The environment a built artifact was built for; None in a checkout."""
    if not ARTIFACT_FILE.is_file():
        return None
    return str(json.loads(ARTIFACT_FILE.read_text())["environment"])


def settings_module() -> str:
    """The settings module for this process: `DJANGO_SETTINGS_MODULE` if set, otherwise
    the one of `SWITCHBOARD_ENV`, the artifact's environment, or local_dev."""
    named = os.environ.get("SWITCHBOARD_ENV")
    if named is not None:
        _known(named, "SWITCHBOARD_ENV")
    default = named or artifact_environment() or "local_dev"
    return os.environ.get("DJANGO_SETTINGS_MODULE") or f"config.settings.{default}"


def environment(module_env: str) -> str:
    """Called by each settings module with its own name: refuses an unknown
    `SWITCHBOARD_ENV`, or one that names another environment than the settings do."""
    named = os.environ.get("SWITCHBOARD_ENV")
    if named is not None and _known(named, "SWITCHBOARD_ENV") != module_env:
        raise UnknownEnvironment(
            f"SWITCHBOARD_ENV={named!r} but the settings module is config.settings."
            f"{module_env}; unset one of them or make them agree."
        )
    return module_env
