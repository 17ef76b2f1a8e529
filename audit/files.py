"""Where the log files live and how a line is appended, shared by every log of the package.

`<logs>` is `settings.SWITCHBOARD_LOGS_DIR`, by default `VAR_DIR/logs`:
- `<logs>/errors.jsonl`: the central error log;
- `<logs>/security.jsonl`: security events;
- `<logs>/tenants/<slug>/actions.jsonl`: each tenant's action log.
Writing a log line never breaks the request that caused it: a failure to write goes to
the process's own logging instead.
"""

import functools
import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from audit import jsonlines

log = logging.getLogger(__name__)

TENANT_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def logs_dir() -> Path:
    configured = getattr(settings, "SWITCHBOARD_LOGS_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "logs"


def error_log_path() -> Path:
    return logs_dir() / "errors.jsonl"


def security_log_path() -> Path:
    return logs_dir() / "security.jsonl"


def tenant_log_path(slug: str) -> Path:
    """The live action log of tenant `slug` (`platform` for platform-scoped actions)."""
    configured = getattr(settings, "SWITCHBOARD_LOGS_DIR", None)
    return _tenant_log_path(configured and str(configured), str(settings.VAR_DIR), slug)


@functools.lru_cache(maxsize=4096)
def _tenant_log_path(configured: str | None, var_dir: str, slug: str) -> Path:
    """Kept per settings and slug: the worker asks for every action it runs."""
    if not isinstance(slug, str) or not TENANT_SLUG.fullmatch(slug):  # it becomes a path
        raise ValueError(f"not a tenant slug: {slug!r}")
    root = Path(configured) if configured else Path(var_dir) / "logs"
    return root / "tenants" / slug / "actions.jsonl"


def now_iso(at: datetime | None = None) -> str:
    return (at or timezone.now()).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def safe_append(path: Path, entry: dict[str, Any]) -> None:
    try:
        jsonlines.append(path, entry)
    except OSError:
        log.exception("could not write to %s; the entry was %r", path, entry)


def bounded(value: Any, limit: int = 100) -> str | None:
    return None if value is None else str(value)[:limit]
