"""What this process may run: the running environment's manifest, read once per process.

The pipeline asks `is_released(spec)` for every message, so it is one set lookup. In
`local_dev` and `local_test` everything in the code runs (release/policy.py ALLOW_ALL).
A built artifact also knows the names it left out (`withheld`, from its
release/artifact.json), so that they answer `not_released`, not `unknown_action`.
"""

import json
import logging
from functools import cache
from typing import Any

from django.conf import settings

from actions.contract.registry import ActionSpec, UnknownAction, registry
from config.environments import ARTIFACT_FILE
from release import manifests, policy

log = logging.getLogger(__name__)


def parse_key(key: str) -> tuple[str, int]:
    name, _, version = key.partition("@")
    return name, int(version or 1)


@cache
def _released() -> frozenset[tuple[str, int]] | None:
    environment = settings.SWITCHBOARD_ENV
    if environment in policy.ALLOW_ALL:
        return None
    return frozenset(parse_key(k) for k in manifests.load(environment)["actions"])


@cache
def _withheld() -> frozenset[str]:
    if not ARTIFACT_FILE.is_file():
        return frozenset()
    return frozenset(json.loads(ARTIFACT_FILE.read_text())["withheld"])


def is_released(spec: ActionSpec) -> bool:
    released = _released()
    return released is None or spec.key in released


def withheld(name: str) -> bool:
    """An action of the index that this artifact was built without."""
    return name in _withheld()


def forget() -> None:
    """Read the manifest again on next use (tests that switch environment or manifest)."""
    _released.cache_clear()
    _withheld.cache_clear()


def drift(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of a manifest whose code no longer matches their pinned hash (or that
    the code no longer has)."""
    found = []
    for key, entry in sorted(document["actions"].items()):
        name, version = parse_key(key)
        try:
            current: str | None = registry.get(name, version).code_hash
        except UnknownAction:  # its file is gone
            current = None
        if current != entry["hash"]:
            found.append({"action": key, "pinned": entry["hash"], "current": current})
    return found


def running_drift() -> list[dict[str, Any]]:
    """Drift of the running environment's manifest; none where everything runs."""
    environment = settings.SWITCHBOARD_ENV
    if environment in policy.ALLOW_ALL:
        return []
    return drift(manifests.load(environment))


def warn_drift_at_start() -> None:
    for entry in running_drift():
        log.warning(
            "release drift in %s: %s is pinned at %s but its code hashes to %s",
            settings.SWITCHBOARD_ENV,
            entry["action"],
            entry["pinned"],
            entry["current"] or "(missing)",
        )
