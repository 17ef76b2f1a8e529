"""Rate limits, step 8 of the pipeline (docs/security.md#rate-limits).

Fixed-window counters in Redis: one INCR + EXPIRE per scope and message, in one round
trip. Scopes: the tenant, the actor on that tenant, and the client address for actions
anyone may call (login, forgot password, webhooks), which have no actor to count.
Limits come from the tenant's config (`rate_limits`) over the defaults in
settings.SWITCHBOARD["RATE_LIMITS"].

Redis down fails OPEN: the API keeps answering, each skipped check is logged to the
central error log, and the circuit stays open for a few seconds so a dead Redis costs
one connect timeout per few seconds, not one per request. Rate limits protect against
abuse; refusing every action because a cache is down would be a worse outage.
"""

import logging
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from actions.errors import ActionError, ErrorCode

log = logging.getLogger(__name__)
_CIRCUIT_OPEN_S = 5.0
_local = threading.local()
_down_until = 0.0


@dataclass(frozen=True)
class Limit:
    scope: str  # tenant | actor | source
    limit: int
    window_s: int


class RateLimited(ActionError):
    def __init__(self, limit: Limit, retry_after_s: int) -> None:
        super().__init__(
            ErrorCode.RATE_LIMITED,
            f"Too many requests for this {limit.scope}: at most {limit.limit} per "
            f"{limit.window_s} s. Try again in {retry_after_s} s.",
            details={"scope": limit.scope, "retry_after_s": retry_after_s},
        )
        self.category = f"rate_limit_{limit.scope}"
        self.retry_after_s = retry_after_s


def _client() -> redis.Redis:
    url = settings.SWITCHBOARD["REDIS_URL"]
    client = getattr(_local, "client", None)
    if client is None or getattr(_local, "url", None) != url:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=0.2, socket_timeout=0.2, health_check_interval=30
        )
        _local.client, _local.url = client, url
    return client


def _key(*parts: str) -> str:
    return ":".join([settings.SWITCHBOARD["REDIS_PREFIX"], "rl", *parts])


def limits_for(tenant, *, anonymous: bool) -> list[Limit]:
    """The limits that apply, from the tenant's config over the settings' defaults.

    The config is read defensively: it is edited by owners and its schema may lag.
    """
    defaults = settings.SWITCHBOARD["RATE_LIMITS"]
    overrides = {}
    config = getattr(tenant, "config", None)
    if isinstance(config, dict) and isinstance(config.get("rate_limits"), dict):
        overrides = config["rate_limits"]
    scopes = ["tenant", "actor"] + (["source"] if anonymous else [])
    out = []
    for scope in scopes:
        base = defaults[scope]
        mine = overrides.get(scope) if isinstance(overrides.get(scope), dict) else {}
        out.append(
            Limit(
                scope=scope,
                limit=_positive(mine.get("limit"), base["limit"]),
                window_s=_positive(mine.get("window_s"), base["window_s"], upper=86_400),
            )
        )
    return out


def _positive(value, default: int, upper: int = 10**9) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= upper:
        return value
    return default


def check(*, tenant, tenant_slug: str, actor, source: str, anonymous: bool) -> None:
    """Count this message against every limit that applies; raise RateLimited if over.

    `source` is the client address over REST; over AMQP it is "amqp" (publishers are
    authenticated by the broker), and the per-address limit is not applied.
    """
    global _down_until
    if not settings.SWITCHBOARD.get("RATE_LIMITS_ENABLED", True):
        return
    now = time.time()
    if now < _down_until:
        return
    limits = limits_for(tenant, anonymous=anonymous and bool(source) and source != "amqp")
    subjects = {"tenant": tenant_slug, "actor": f"{tenant_slug}:{actor.id}" if actor else None}
    subjects["source"] = source
    counted = []
    try:
        pipe = _client().pipeline(transaction=False)
        for limit in limits:
            subject = subjects.get(limit.scope)
            if subject is None:
                continue
            window = int(now // limit.window_s)
            key = _key(limit.scope, str(subject), str(limit.window_s), str(window))
            pipe.incr(key)
            pipe.expire(key, limit.window_s + 1)
            counted.append((limit, window))
        replies = pipe.execute()
    except redis.RedisError as exc:
        _down_until = now + _CIRCUIT_OPEN_S
        log.error("rate limits skipped for %.0f s: Redis unavailable (%s)", _CIRCUIT_OPEN_S, exc)
        return
    for (limit, window), count in zip(counted, replies[::2], strict=True):
        if count > limit.limit:
            retry = max(1, int((window + 1) * limit.window_s - now + 0.999))
            raise RateLimited(limit, retry)


def reset() -> None:
    """Forget every counter under this installation's prefix (tests, operators)."""
    client = _client()
    keys = list(client.scan_iter(match=_key("*"), count=1000))
    if keys:
        client.delete(*keys)
