"""Release manifests: one per environment, naming the action versions released there,
each pinned by a hash of its file and its schemas.

They are committed files, `release/manifests/<env>.json`, with the one before the last
change beside it (`<env>.previous.json`, what `release revert` goes back to) and the
selection the next `release build` starts from (`<env>.selected.json`). Files, not rows:
a release is reviewed in git like the code it pins, a built artifact carries its manifest
without a database, and a revert is a byte-for-byte copy.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"


def pin(*, source: bytes, input_schema: dict[str, Any], output_schema: dict[str, Any]) -> str:
    """The hash that pins an action version: its file and its two schemas."""
    digest = hashlib.sha256(source)
    for schema in (input_schema, output_schema):
        digest.update(b"\n" + json.dumps(schema, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def render(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def path_of(environment: str, kind: str = "", directory: Path = MANIFEST_DIR) -> Path:
    """`kind`: "" (the manifest), "previous" or "selected"."""
    return directory / (f"{environment}.{kind}.json" if kind else f"{environment}.json")


def empty(environment: str) -> dict[str, Any]:
    return {"environment": environment, "actions": {}}


def load(environment: str, kind: str = "", directory: Path = MANIFEST_DIR) -> dict[str, Any]:
    """A manifest (`actions`: {"name@version": {"hash", "path", "state"}}); an empty one
    when the file does not exist."""
    path = path_of(environment, kind, directory)
    if not path.is_file():
        return empty(environment)
    return json.loads(path.read_bytes())


def save(document: dict[str, Any], kind: str = "", directory: Path = MANIFEST_DIR) -> bool:
    """Write a manifest; when `kind` is "" and the content changes, the manifest it
    replaces becomes `<env>.previous.json`. Returns whether anything changed."""
    path = path_of(document["environment"], kind, directory)
    new = render(document)
    old = path.read_bytes() if path.is_file() else None
    if old == new:
        return False
    directory.mkdir(parents=True, exist_ok=True)
    if not kind and old is not None:
        path_of(document["environment"], "previous", directory).write_bytes(old)
    path.write_bytes(new)
    return True
