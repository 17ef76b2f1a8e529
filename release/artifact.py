"""A build's artifact: a directory holding the framework and only the selected actions'
files, which starts as the environment it was built for.

Everything but the action files is copied (the packages, manage.py, the lock, the
published contract); of `actions/catalog` and `adminchannel/actions` only the files of the
manifest's actions (and the `_models.py`, `_common.py` and `__init__.py` they share) go in.
The manifest it carries is the one the build wrote.
`release/artifact.json` names the environment and the actions left out (`withheld`): the
artifact's process answers `not_released` for them, as the index (contract/index.json,
copied) still lists them. Tests are not copied.
"""

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from actions.contract.registry import ROOT, ActionSpec
from config.environments import ARTIFACT_FILE
from release import manifests

BUILD_DIR = ROOT / "build"  # git-ignored
FRAMEWORK = (
    "actions",
    "adminchannel",
    "audit",
    "config",
    "connectors",
    "contract",
    "deploy",
    "release",
    "tenants",
    "manage.py",
    "pyproject.toml",
    "requirements.lock",
)


def artifact_write(
    *,
    manifest: dict,
    selected: Iterable[ActionSpec],
    every: Iterable[ActionSpec],
    out: Path,
) -> Path:
    """Write the artifact of a manifest under `out/<environment>` (replacing it)."""
    environment = manifest["environment"]
    chosen = {spec.path for spec in selected}
    left_out = {spec.path: spec.name for spec in every if spec.path not in chosen}
    target = out / environment
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)

    def ignore(directory: str, names: list[str]) -> set[str]:
        relative = Path(directory).resolve().relative_to(ROOT)
        return {n for n in names if n == "__pycache__" or str(relative / n) in left_out} | {
            n for n in names if relative == Path("release") and n == "artifact.json"
        }

    for name in FRAMEWORK:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, target / name)
    manifests.save(manifest, "", target / "release" / "manifests")  # the one it was built with
    marker = target / ARTIFACT_FILE.relative_to(ROOT)
    marker.write_text(
        json.dumps(
            {"environment": environment, "withheld": sorted(set(left_out.values()))}, indent=2
        )
        + "\n"
    )
    return target
