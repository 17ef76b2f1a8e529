"""The hash chain of the admin audit log.

Each entry's hash is sha256 over the canonical JSON of its content, its position (`seq`)
and the previous entry's hash. Editing an entry breaks its own hash; deleting one
leaves a gap in `seq`; reordering changes the position an entry was hashed at.
"""

import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "tenant",
    "action",
    "version",
    "message_id",
    "channel",
    "outcome",
    "code",
    "payload_summary",
    "reason",
    "as_super_admin",
    "grant_id",
    "prev_hash",
)


def entry_hash(fields: dict) -> str:
    content = {name: fields[name] for name in HASHED_FIELDS}
    content["at"] = content["at"].isoformat()  # a datetime; microseconds survive the DB
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Verdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify(entries, *, prev_hash: str = GENESIS, prev_seq: int = 0) -> Verdict:
    """Walk `entries` (ordered by seq) and report the first one that does not fit."""
    checked = 0
    for entry in entries:
        fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
        if entry.seq != prev_seq + 1:
            return Verdict(
                False, checked, entry.seq, f"entries {prev_seq + 1}..{entry.seq - 1} are missing"
            )
        if entry.prev_hash != prev_hash:
            return Verdict(
                False, checked, entry.seq, "does not follow the entry before it (removed or moved)"
            )
        if entry_hash(fields) != entry.hash:
            return Verdict(False, checked, entry.seq, "content or position was changed")
        prev_hash, prev_seq = entry.hash, entry.seq
        checked += 1
    return Verdict(True, checked)
