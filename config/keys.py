"""The signing key (Django's SECRET_KEY, which also signs the API's JWTs: tenants/tokens.py).

Hosted environments take it from SWITCHBOARD_SECRET_KEY and refuse to start with a weak
one (`hosted_secret_key`). Local environments (`local_dev`, `local_qa`, `local_test`)
generate one per checkout, once, under `var/` (git-ignored): no key is written in the code.
"""

import math
import os
import secrets
import zlib
from collections import Counter
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 50
MIN_DISTINCT = 10
MIN_ENTROPY_BITS = 190  # estimated; 32 random bytes as hex (64 chars) estimate ~240
# Keys seen in code and tutorials (lower-cased), and words no generated key contains.
KNOWN_WEAK = frozenset(
    {
        "secret",
        "changeme",
        "change-me",
        "password",
        "django-insecure",
        "insecure-local-key-change-me-for-any-hosted-environment",
        "hosted-secret",
    }
)
WEAK_PARTS = ("insecure", "changeme", "change-me", "change_me", "secret-key", "secretkey")
ENV_NAME = "SWITCHBOARD_SECRET_KEY"


def entropy_bits(key: str) -> float:
    """Shannon estimate of the key's information (length x bits per character)."""
    counts = Counter(key)
    return -sum(n * math.log2(n / len(key)) for n in counts.values())


def key_weakness(key: str) -> str | None:
    """Why `key` is too weak to sign tokens, or None."""
    lowered = key.strip().lower()
    if lowered in KNOWN_WEAK or any(part in lowered for part in WEAK_PARTS):
        return "it is a known or placeholder key"
    if len(key) < MIN_LENGTH:
        return f"it is shorter than {MIN_LENGTH} characters"
    if len(set(key)) < MIN_DISTINCT:
        return f"it has fewer than {MIN_DISTINCT} distinct characters"
    if entropy_bits(key) < MIN_ENTROPY_BITS:
        return f"it carries less than ~{MIN_ENTROPY_BITS} bits of entropy"
    if len(zlib.compress(key.encode(), 9)) < len(key) // 2:
        return "it repeats itself"
    return None


def hosted_secret_key() -> str:
    """SWITCHBOARD_SECRET_KEY, refused at start-up when missing or weak (never echoed)."""
    key = os.environ.get(ENV_NAME, "")
    if not key:
        raise ImproperlyConfigured(f"{ENV_NAME} must be set in hosted environments")
    weakness = key_weakness(key)
    if weakness:
        raise ImproperlyConfigured(
            f"{ENV_NAME} is too weak to sign tokens: {weakness}. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
        )
    return key


def local_secret_key(var_dir: Path) -> str:
    """SWITCHBOARD_SECRET_KEY if set, else this checkout's key in `var_dir/secret_key`,
    generated the first time (mode 0600; concurrent first starts agree on one key)."""
    key = os.environ.get(ENV_NAME, "")
    if key:
        return key
    path = Path(var_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(64) + "\n")
        try:
            os.link(tmp, path)  # fails if another process got there first: use its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
