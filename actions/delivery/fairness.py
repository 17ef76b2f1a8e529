"""Fair scheduling between tenants: a per-tenant cap on published-but-unfinished actions.

Every tenant shares one broker queue per channel, and RabbitMQ serves it first in, first
out; a tenant that sends 10,000 actions at once would put everyone else's behind them.
So the outbox keeps that queue short and fair (docs/architecture.md, "Fairness"): it
publishes a record only while its tenant has fewer than `cap` of the channel's actions
published and unfinished. The rest stay where they already are, in the tenant's records
table (accepted, `published_at` null: the outbox), and the publisher takes them from
there, oldest first, as the tenant's slots free up.

A slot is a member of a Redis sorted set per channel and tenant schema, keyed by record
id, scored with the time it was taken:
- `acquire` (the publisher, the sweep) adds ids while the set has room, in one Lua
  script per schema; an id already in the set is somebody else's publish and is skipped,
  so two processes never both publish a record (the sweep alone may take over an id
  whose holder has not published it for a while: `refresh_before`);
- the worker removes the id (`release`) after the record's outcome is committed; the
  task message says whether its record holds a slot (`slot` in its kwargs);
- the records are the truth, and the set heals from them: the sweep removes ids whose
  record is finished or gone (`reconcile`), and any member older than SLOT_TTL_SECONDS
  is dropped by the next `acquire`.

The cap applies to a tenant alone, and between busy tenants. While another tenant of
the channel is *light* (it asked for slots in the last ACTIVE_WINDOW_S, got all it asked
for, and holds no more than `shared_cap`: one action at a time, say), a tenant gets
slots only below the smaller `shared_cap`, so that a flood leaves the workers and the
machine room for the light tenant's actions (the script keeps, per channel, a sorted set
of the light tenants and when they last asked). Busy tenants among themselves keep the
cap: none of them is light. The sweep's takeovers (`refresh_before`) are recovery:
they neither make a tenant light nor are held to the shared cap, only to the cap (what
does not fit goes to a publisher, which is).

Redis down fails OPEN, as the rate limits do: records are published without a slot
(FIFO, no fairness) and nothing waits on a cache; the circuit stays open a few seconds.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from actions.connections import redis_round_trip, run_scripts, thread_redis

log = logging.getLogger(__name__)
_CIRCUIT_OPEN_S = 5.0
_down_until = 0.0

# KEYS[1] the tenant's set, KEYS[2] the channel's light tenants lately (schema -> when):
# those that asked and got every slot they asked for, holding no more than the shared cap.
# ARGV: now, cap, ttl, refresh_before, shared cap, window, schema, ids...
# -> {granted, refused}: ids left out are held already (by another publisher, in flight).
_ACQUIRE = """
local now, cap, ttl, refresh = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local shared, window, me = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local sharing = shared > 0 and shared < cap
if sharing then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  local others = redis.call('ZCARD', KEYS[2])
  if redis.call('ZSCORE', KEYS[2], me) then others = others - 1 end
  -- another tenant's light traffic is about: leave it room (not in the sweep's recovery)
  if others > 0 and refresh == 0 then cap = shared end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
local n = redis.call('ZCARD', KEYS[1])
local granted, refused = {}, {}
for i = 8, #ARGV do
  local id = ARGV[i]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score then
    if tonumber(score) < refresh then
      redis.call('ZADD', KEYS[1], now, id)
      granted[#granted + 1] = id
    end
  elseif n < cap then
    redis.call('ZADD', KEYS[1], now, id)
    n = n + 1
    granted[#granted + 1] = id
  else
    refused[#refused + 1] = id
  end
end
if sharing then
  if #refused == 0 and n <= shared and refresh == 0 then
    redis.call('ZADD', KEYS[2], now, me)
    redis.call('EXPIRE', KEYS[2], math.ceil(window) + 1)
  else
    redis.call('ZREM', KEYS[2], me)  -- held back, or holding more: not light
  end
end
if n > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return {granted, refused}
"""


def _conf() -> dict[str, Any]:
    conf: dict[str, Any] = settings.SWITCHBOARD
    return conf


def cap(channel: str) -> int:
    """A tenant's most published-but-unfinished actions on `channel` while no other tenant
    of the channel has actions to publish; 0: no scheduling."""
    return int(_conf().get("TENANT_INFLIGHT_CAP", {}).get(channel, 0) or 0)


def shared_cap(channel: str) -> int:
    """The same while another tenant of the channel is light (see above; 0, or not below
    `cap`: the same cap either way)."""
    return int(_conf().get("TENANT_INFLIGHT_SHARED_CAP", {}).get(channel, 0) or 0)


# A light tenant counts for this long after it last asked for a slot.
ACTIVE_WINDOW_S = 1.0


def _light_key(channel: str) -> str:
    return f"{_conf()['REDIS_PREFIX']}:inflight-light:{channel}"


def slot_ttl_s() -> int:
    return int(_conf().get("INFLIGHT_SLOT_TTL_SECONDS", 900))


def key(channel: str, schema: str) -> str:
    return f"{_conf()['REDIS_PREFIX']}:inflight:{channel}:{schema}"


def _client() -> redis.Redis:
    return thread_redis(_conf()["REDIS_URL"], socket_timeout=0.5)


def _available() -> bool:
    return time.monotonic() >= _down_until


def _trip(what: str) -> None:
    global _down_until
    _down_until = time.monotonic() + _CIRCUIT_OPEN_S
    log.warning("fair scheduling off for %.0f s: Redis failed (%s)", _CIRCUIT_OPEN_S, what)


@dataclass
class Grant:
    granted: set[str]
    refused: set[str]  # ids left out because the tenant's slots were all taken
    gated: bool  # False: Redis was unavailable and everything may go out without a slot


def acquire(
    channel: str,
    wanted: dict[str, list[str]],
    *,
    refresh_before: float = 0.0,
    serving: bool = False,
) -> dict[str, Grant]:
    """Slots for record ids, per schema, in one round trip. `refresh_before` (epoch s): an
    id already holding a slot taken before then is granted again (the sweep's takeover of
    a record whose publisher died). `serving`: the caller is a live publisher working
    through these schemas' backlogs (the sweep leaves them to it, `served`)."""
    limit, shared = cap(channel), shared_cap(channel)
    if not _available():
        return {schema: Grant(set(ids), set(), False) for schema, ids in wanted.items()}
    schemas = list(wanted)
    try:
        now = time.time()
        calls = []
        for schema in schemas:
            args: list[float | str] = [now, limit, slot_ttl_s(), refresh_before]
            args += [shared, ACTIVE_WINDOW_S, schema, *wanted[schema]]
            calls.append(((key(channel, schema), _light_key(channel)), args))
        then = (
            [("SET", _serving_key(channel, s), 1, "EX", SERVING_TTL_S) for s in schemas]
            if serving
            else []
        )
        replies = run_scripts(
            _conf()["REDIS_URL"], socket_timeout=0.5, source=_ACQUIRE, calls=calls, then=then
        )
    except redis.RedisError as exc:
        _trip(repr(exc))
        return {schema: Grant(set(ids), set(), False) for schema, ids in wanted.items()}
    return {
        schema: Grant({i.decode() for i in granted}, {i.decode() for i in refused}, True)
        for schema, (granted, refused) in zip(schemas, replies, strict=True)
    }


# A publisher working through a tenant's backlog says so for this long, renewed every
# REFILL_EVERY_S; the sweep leaves that tenant's unpublished records to it meanwhile.
SERVING_TTL_S = 3


def _serving_key(channel: str, schema: str) -> str:
    return f"{_conf()['REDIS_PREFIX']}:serving:{channel}:{schema}"


def served(channel: str, schemas: Iterable[str]) -> set[str]:
    """The schemas whose backlog a live publisher is working through now."""
    schemas = list(schemas)
    if not schemas or not _available():
        return set()
    try:
        pipe = _client().pipeline(transaction=False)
        for schema in schemas:
            pipe.exists(_serving_key(channel, schema))
        return {s for s, found in zip(schemas, pipe.execute(), strict=True) if found}
    except redis.RedisError as exc:
        _trip(repr(exc))
        return set()


def in_flight(channel: str, schemas: Iterable[str]) -> dict[str, int]:
    """How many slots each schema holds now (one round trip); {} when Redis is down."""
    schemas = list(schemas)
    if not schemas or not _available():
        return {}
    try:
        pipe = _client().pipeline(transaction=False)
        for schema in schemas:
            pipe.zcard(key(channel, schema))
        return dict(zip(schemas, pipe.execute(), strict=True))
    except redis.RedisError as exc:
        _trip(repr(exc))
        return {}


def release(channel: str, schema: str, record_id: str) -> None:
    """The record is finished: its slot is free (the worker, after the outcome committed).
    A release lost here is healed by the sweep's `reconcile`."""
    if not _available():
        return
    try:
        url = _conf()["REDIS_URL"]
        redis_round_trip(
            url, socket_timeout=0.5, commands=[("ZREM", key(channel, schema), record_id)]
        )
    except redis.RedisError as exc:
        _trip(repr(exc))


def held(channel: str, schemas: Iterable[str]) -> dict[str, list[str]]:
    """The record ids holding slots, per schema (the sweep's reconcile reads them)."""
    schemas = list(schemas)
    if not schemas or not _available():
        return {}
    try:
        pipe = _client().pipeline(transaction=False)
        for schema in schemas:
            pipe.zrange(key(channel, schema), 0, -1)
        return {
            schema: [i.decode() for i in ids]
            for schema, ids in zip(schemas, pipe.execute(), strict=True)
            if ids
        }
    except redis.RedisError as exc:
        _trip(repr(exc))
        return {}


def forget(channel: str, schema: str, record_ids: list[str]) -> None:
    """Free the slots of records that are finished or gone (the sweep's reconcile)."""
    if record_ids and _available():
        try:
            _client().zrem(key(channel, schema), *record_ids)
        except redis.RedisError as exc:
            _trip(repr(exc))
