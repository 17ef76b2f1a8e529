"""Rate limits, step 8 of the pipeline (docs/security.md#rate-limits).

Fixed-window counters in Redis: one INCR + EXPIRE per scope and message, in one round
trip, all or nothing (a message refused by one limit counts against none, so an actor
over its own limit does not spend its tenant's). Who is counted where:
- a member (an authenticated actor): the tenant's bucket and the actor's bucket on that
  tenant, with the limits of the tenant's config (`rate_limits.per_tenant_per_minute`,
  `per_actor_per_minute`, read through `tenants.config.config_section`, whose DEFAULTS
  are the only defaults);
- an anonymous caller over REST (login, forgot password, webhooks): its client address
  only, never the members' tenant bucket, so one anonymous client cannot lock a tenant's
  members out (settings.SWITCHBOARD["RATE_LIMITS"]["source"]: not per tenant);
- an anonymous message with no client address (AMQP): the tenant's anonymous bucket
  (settings ...["anonymous"]), again apart from the members' bucket.

Refused messages also count (`count_refusal`): a source, actor or AMQP sender whose
messages were refused (`invalid_envelope`, `validation_error`, `rejected_input`) too often
in the window is refused (`rate_limited`, scope `refusals`). Where it is refused:
- `check` (step 8) refuses it in every process: the refusal counts are read in the same
  Redis round trip (one Lua script) that counts the message against its limits, so an
  accepted message costs one round trip for all of it;
- `refusal_budget`, before the payload is validated and inspected, refuses it without
  that cost in a process that has counted one of its refusals in the window (a process
  learns a subject from its own refusals, and from `check` refusing it): a flood of
  hostile messages costs each process about one more validation per subject and window
  (or as many as it had in hand when the first refusal was counted). Messages from a
  subject a process has not seen refused skip that round trip.

Anonymous AMQP messages have no client address and every outside client shares one broker
login, so `anonymous_amqp_admit` runs before the body is even parsed: the sender (its
direct reply-to address, i.e. its channel) over its refusal budget is refused, and every
anonymous message larger than SMALL_ANONYMOUS_BYTES is counted in bytes against one
budget for all anonymous AMQP senders (settings ...["anonymous_bytes"]): past it, big
anonymous messages are refused unparsed, so a flood of big hostile bodies costs the
ingress at most that many bytes of parsing and guarding per window, however many
addresses it mints. Small ones (sign-ins) are not held up by it.

Redis down fails OPEN: the API keeps answering, each skipped check is logged to the
central error log, and the circuit stays open for a few seconds so a dead Redis costs
one connect timeout per few seconds, not one per request. Rate limits protect against
abuse; refusing every action because a cache is down would be a worse outage.
"""

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from actions.connections import run_scripts, thread_redis
from actions.contract.errors import ActionError, ErrorCode
from tenants.config import DEFAULTS, config_section

log = logging.getLogger(__name__)
_CIRCUIT_OPEN_S = 5.0
_down_until = 0.0
NO_ADDRESS = frozenset({"", "amqp"})  # AMQP publishers are authenticated by the broker
REFUSAL_CODES = frozenset(
    {ErrorCode.INVALID_ENVELOPE, ErrorCode.VALIDATION_ERROR, ErrorCode.REJECTED_INPUT}
)


@dataclass(frozen=True)
class Limit:
    scope: str  # tenant | actor | source | anonymous | refusals
    limit: int
    window_s: int


class RateLimited(ActionError):
    def __init__(self, limit: Limit, retry_after_s: int) -> None:
        what = _WHAT.get(limit.scope, "requests")
        super().__init__(
            ErrorCode.RATE_LIMITED,
            f"Too many {what} for this {_SUBJECT[limit.scope]}: at most {limit.limit} per "
            f"{limit.window_s} s. Try again in {retry_after_s} s.",
            details={"scope": limit.scope, "retry_after_s": retry_after_s},
        )
        self.category = f"rate_limit_{limit.scope}"
        self.retry_after_s = retry_after_s


_SUBJECT = {
    "tenant": "tenant",
    "actor": "user",
    "source": "address",
    "anonymous": "tenant's anonymous callers",
    "refusals": "sender",
    "anonymous_bytes": "broker's anonymous senders",
}
_WHAT = {"refusals": "refused messages", "anonymous_bytes": "bytes of big anonymous messages"}
SMALL_ANONYMOUS_BYTES = 4096  # an anonymous AMQP message up to this size is not byte-counted


def _conf() -> dict[str, Any]:
    # The settings' SWITCHBOARD dict mixes value types (config/settings/base.py).
    conf: dict[str, Any] = settings.SWITCHBOARD
    return conf


def _client() -> redis.Redis:
    return thread_redis(_conf()["REDIS_URL"], socket_timeout=0.2)


def _key(*parts: str) -> str:
    return ":".join([_conf()["REDIS_PREFIX"], "rl", *parts])


def _setting(scope: str) -> Limit:
    """A limit that is not per tenant (source, anonymous, refusals): from the settings."""
    own = _conf().get("RATE_LIMITS", {}).get(scope) or {}
    fallback = _SETTING_FALLBACK[scope]
    return Limit(
        scope,
        _positive(own.get("limit"), fallback["limit"]),
        _positive(own.get("window_s"), fallback["window_s"], upper=86_400),
    )


# Used only when the settings lack the key (the settings are where they are set).
_SETTING_FALLBACK = {
    "source": {"limit": 30, "window_s": 60},
    "anonymous": {"limit": 600, "window_s": 60},
    "refusals": {"limit": 60, "window_s": 60},
    "anonymous_bytes": {"limit": 1024 * 1024, "window_s": 60},
}


def limits_for(tenant, *, anonymous: bool, address: bool = True) -> list[Limit]:
    """The limits that apply to one message (see the module docstring).

    `tenant` is None for platform actions: the config DEFAULTS apply. The config is
    validated when set; it is still read defensively (a bad value takes the default).
    """
    if anonymous:
        return [_setting("source" if address else "anonymous")]
    defaults = DEFAULTS["rate_limits"]
    effective = defaults
    if tenant is not None:
        try:
            effective = config_section(tenant=tenant, name="rate_limits") or defaults
        except (TypeError, ValueError, AttributeError):  # not a dict: defaults
            effective = defaults
        if not isinstance(effective, dict):
            effective = defaults
    return [
        Limit("tenant", _per_minute(effective, defaults, "per_tenant_per_minute"), 60),
        Limit("actor", _per_minute(effective, defaults, "per_actor_per_minute"), 60),
    ]


def _per_minute(effective: dict, defaults: dict, key: str) -> int:
    return _positive(effective.get(key), defaults[key])


def _positive(value, default: int, upper: int = 10**9) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= upper:
        return value
    return default


def _enabled(now: float) -> bool:
    return bool(_conf().get("RATE_LIMITS_ENABLED", True)) and now >= _down_until


def _redis_down(now: float, exc: Exception) -> None:
    global _down_until
    _down_until = now + _CIRCUIT_OPEN_S
    from actions.contract.envelope import new_trace_id
    from audit import error_log

    error_log.error_record(
        component="ratelimit",
        trace_id=new_trace_id(),
        code="internal_error",
        message=f"rate limits skipped for {_CIRCUIT_OPEN_S:.0f} s: Redis unavailable "
        f"({type(exc).__name__})",
    )


def _retry_after(limit: Limit, window: int, now: float) -> int:
    return max(1, int((window + 1) * limit.window_s - now + 0.999))


# KEYS: the refusal counters of the message's subjects, then its limits' counters.
# ARGV: how many refusal counters, the refusal budget, then each limit counter's limit
# and TTL, in pairs.
# -> {0, the index of the refusal counter over the budget} (nothing counted),
#    {2, the index of the first limit already reached} (nothing counted), or
#    {1} (counted against every limit).
# All or nothing: a message refused by one limit counts against none, so that one actor
# over its own limit cannot spend its tenant's (or, on `platform`, everyone's) budget.
_CHECK = """
local refusals, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, refusals do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= budget then return {0, i} end
end
for i = refusals + 1, #KEYS do
  local limit = tonumber(ARGV[2 * (i - refusals) + 1])
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then return {2, i - refusals} end
end
for i = refusals + 1, #KEYS do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[2 * (i - refusals) + 2])
end
return {1}
"""


def check(
    *, tenant, tenant_slug: str, actor, source: str, anonymous: bool, sender: str | None = None
) -> None:
    """Count this message against every limit that applies; raise RateLimited if over,
    or if its sender is over its refusal budget (then nothing is counted). One round trip.

    `source` is the client address over REST; over AMQP it is "amqp" (no address).
    """
    now = time.time()
    if not _enabled(now):
        return
    address = source not in NO_ADDRESS
    subjects = {
        "tenant": tenant_slug,
        "actor": f"{tenant_slug}:{actor.id}" if actor is not None else None,
        "source": source,
        "anonymous": tenant_slug,
    }
    refusals = _setting("refusals")
    refusal_window = int(now // refusals.window_s)
    refusal_keys = _refusal_keys(refusals, actor=actor, source=source, sender=sender, now=now)
    keys, limits_ttls, counted = list(refusal_keys), [], []
    for limit in limits_for(tenant, anonymous=anonymous or actor is None, address=address):
        subject = subjects[limit.scope]
        if subject is None:
            continue
        window = int(now // limit.window_s)
        keys.append(_key(limit.scope, str(subject), str(limit.window_s), str(window)))
        limits_ttls += [limit.limit, limit.window_s + 1]
        counted.append((limit, window))
    try:
        replies = _run_script(keys, [len(refusal_keys), refusals.limit, *limits_ttls])
    except redis.RedisError as exc:
        _redis_down(now, exc)
        return
    if replies[0] == 0:  # over the refusal budget: refused before anything is counted
        _suspect(refusal_keys)
        raise RateLimited(refusals, _retry_after(refusals, refusal_window, now))
    if replies[0] == 2:  # a limit already reached: refused before anything is counted
        limit, window = counted[replies[1] - 1]
        raise RateLimited(limit, _retry_after(limit, window, now))
    # Otherwise counted: the script checked every limit first, atomically.


def _run_script(keys: list[str], args: list) -> list[int]:
    url = _conf()["REDIS_URL"]
    [replies] = run_scripts(url, socket_timeout=0.2, source=_CHECK, calls=[(keys, args)])
    return [int(reply) for reply in replies]


# --- refused messages ----------------------------------------------------------------------
def _refusal_subjects(*, actor, source: str, sender: str | None = None) -> list[str]:
    subjects = [f"source:{source}"] if source not in NO_ADDRESS else []
    if sender:
        subjects.append(f"sender:{sender}")
    if actor is not None:
        subjects.append(f"actor:{actor.id}")
    return subjects


def _refusal_keys(limit: Limit, *, actor, source: str, sender: str | None, now: float) -> list[str]:
    """The message's subjects' refusal counters in `limit`'s current window."""
    window = str(int(now // limit.window_s))
    subjects = _refusal_subjects(actor=actor, source=source, sender=sender)
    return [_key("refusals", s, str(limit.window_s), window) for s in subjects]


# Refusal counters (their keys name the window) that this process counted or found over
# the budget: only a message with one of these subjects asks Redis before its payload is
# read. Bounded; forgetting one costs one validation more, never a missed refusal.
_SUSPECTS_MAX = 10_000
_suspects: "collections.OrderedDict[str, None]" = collections.OrderedDict()
_suspects_lock = threading.Lock()


def _suspect(keys: list[str]) -> None:
    with _suspects_lock:
        for key in keys:
            _suspects[key] = None
            _suspects.move_to_end(key)
        while len(_suspects) > _SUSPECTS_MAX:
            _suspects.popitem(last=False)


def refusal_budget(*, actor, source: str, sender: str | None = None) -> None:
    """Raise RateLimited (scope `refusals`) if this source or actor had more messages
    refused in the current window than the budget: called before the payload is
    validated and inspected, so a flood of hostile messages stops costing guard time.
    Asks Redis only about subjects this process has seen refused in the window (the
    module docstring); `check` asks about all of them in any case."""
    now = time.time()
    if not _enabled(now):
        return
    limit = _setting("refusals")
    keys = _refusal_keys(limit, actor=actor, source=source, sender=sender, now=now)
    if not any(key in _suspects for key in keys):
        return
    window = int(now // limit.window_s)
    try:
        counts = _client().mget(keys)
    except redis.RedisError as exc:
        _redis_down(now, exc)
        return
    if any(int(c or 0) >= limit.limit for c in counts):
        raise RateLimited(limit, _retry_after(limit, window, now))


def count_refusal(*, code, actor, source: str, sender: str | None = None) -> None:
    """Count one refused message (codes in REFUSAL_CODES) against its source, AMQP sender
    and actor."""
    now = time.time()
    limit = _setting("refusals")
    keys = _refusal_keys(limit, actor=actor, source=source, sender=sender, now=now)
    if code not in REFUSAL_CODES or not keys or not _enabled(now):
        return
    _suspect(keys)
    try:
        pipe = _client().pipeline(transaction=False)
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, limit.window_s + 1)
        pipe.execute()
    except redis.RedisError as exc:
        _redis_down(now, exc)


def anonymous_amqp_admit(*, sender: str | None, size: int) -> None:
    """Before an anonymous AMQP message is parsed (see the module docstring): one round trip.

    Raise RateLimited (scope `refusals`) if its sender is over its refusal budget, or
    (scope `anonymous_bytes`) if it is big and the anonymous byte budget is spent; a big
    message is counted whether or not it is then refused, so parallel ingress threads
    cannot all start on big bodies before the first refusal is counted."""
    now = time.time()
    big = size > SMALL_ANONYMOUS_BYTES
    if not (sender or big) or not _enabled(now):
        return
    refusals, budget = _setting("refusals"), _setting("anonymous_bytes")
    refusal_window = int(now // refusals.window_s)
    byte_window = int(now // budget.window_s)
    try:
        pipe = _client().pipeline(transaction=False)
        if sender:
            pipe.get(
                _key("refusals", f"sender:{sender}", str(refusals.window_s), str(refusal_window))
            )
        if big:
            key = _key("anonymous_bytes", "amqp", str(budget.window_s), str(byte_window))
            pipe.incrby(key, size)
            pipe.expire(key, budget.window_s + 1)
        replies = pipe.execute()
    except redis.RedisError as exc:
        _redis_down(now, exc)
        return
    if sender and int(replies[0] or 0) >= refusals.limit:
        raise RateLimited(refusals, _retry_after(refusals, refusal_window, now))
    if big and int(replies[-2]) > budget.limit:
        raise RateLimited(budget, _retry_after(budget, byte_window, now))


def reset() -> None:
    """Forget every counter under this installation's prefix (tests, operators)."""
    with _suspects_lock:
        _suspects.clear()
    client = _client()
    keys = list(client.scan_iter(match=_key("*"), count=1000))
    if keys:
        client.delete(*keys)
