"""Rotation and retention of the log files: at midnight (settings.TIME_ZONE) beat closes
each live file under yesterday's date and deletes those older than seven days
(docs/logging.md)."""

from datetime import datetime, timedelta
from pathlib import Path

from audit import jsonlines
from audit.files import error_log_path, local_today, logs_dir, security_log_path

RETENTION_DAYS = 7


def live_log_files() -> list[Path]:
    """Every live log file: the central ones and each tenant's action log."""
    root = logs_dir()
    files = [error_log_path(), security_log_path()]
    tenants_root = root / "tenants"
    if tenants_root.is_dir():
        files += sorted(p / "actions.jsonl" for p in tenants_root.iterdir() if p.is_dir())
    return files


def logs_rotate(*, now: datetime | None = None, keep_days: int = RETENTION_DAYS) -> dict:
    """Close each live file under yesterday's date and delete files older than
    `keep_days` days. Beat runs it at midnight in settings.TIME_ZONE."""
    today = local_today(now)
    rotated, removed = [], []
    for path in live_log_files():
        target = jsonlines.rotate(path, day=today - timedelta(days=1))
        if target is not None:
            rotated.append(str(target))
        expired = jsonlines.remove_expired(path, today=today, keep_days=keep_days)
        removed += [str(p) for p in expired]
    return {"rotated": rotated, "removed": removed}
