"""Fair turns at the edge: how a web process shares its pipeline between tenants.

The outbox keeps one tenant from filling the broker queue (actions.delivery.fairness), but
the web process is shared too: a tenant whose clients send as fast as they can keeps every
pipeline thread busy, and another tenant's request waits behind all of theirs. So at most
`limit` requests run the pipeline (steps 1-9, `submit`) at once per process, and when more
wait, the next turn goes to the senders in rotation, each sender's requests in order
(docs/architecture.md, "Fairness"). Waiting for an action's answer (`?wait`) takes no turn.

Turns are per sender: the user of a valid bearer token (verified as the pipeline will
verify it; tokens are verified once per process, tenants.tokens), else the client
address. Nothing a client writes in its body decides its place: a flood spread over
invented tenant names or forged tokens still waits in one queue, its address's.
**Backpressure** (`Backpressure`). Turns share the pipeline, but a flood accepted faster
than the workers run it (fair scheduling holds its records back) still spends the CPU
that everyone's running actions need. So while a tenant has more than `limit` records
held back in this process, requests naming it wait before their turn until the backlog
is under the limit, released in order and no more at a time than the room under it:
the tenant's actions are admitted at the pace they run. Each waits at most `wait_s`
and then goes ahead: nothing is refused or lost. The tenant is the one the envelope
names, peeked by the caller only while some backlog is over the limit; a client that
names another tenant only sends its action there.

Everything here runs on the process's event loop: no locks.
"""

import asyncio
import collections
import json
import re
from collections.abc import Callable
from contextlib import asynccontextmanager, suppress

from tenants.models import TENANT_SLUG_PATTERN
from tenants.platform import schema_for_slug
from tenants.tokens import InvalidToken, claims_from_authorization


def named_schema(body) -> str | None:
    """The tenant schema an envelope names, peeked without the pipeline's checks (they
    come after): naming another tenant only sends the action there."""
    try:
        tenant = json.loads(body).get("tenant")
    except (ValueError, TypeError, AttributeError, RecursionError):
        return None
    if isinstance(tenant, str) and _SLUG.fullmatch(tenant):
        return schema_for_slug(tenant)
    return None


_SLUG = re.compile(TENANT_SLUG_PATTERN)


def turn_key(authorization: str | None, source: str) -> str:
    """The queue a request waits in for its turn."""
    try:
        claims = claims_from_authorization(authorization)
    except InvalidToken:
        claims = None
    return f"user:{claims['sub']}" if claims else f"address:{source}"


class FairGate:
    def __init__(self, limit: int):
        self.limit = limit
        self.running = 0
        # Senders with requests waiting, in turn order; each its requests' futures in order.
        self._waiting: collections.OrderedDict[str, collections.deque[asyncio.Future]] = (
            collections.OrderedDict()
        )

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @asynccontextmanager
    async def turn(self, sender: str):
        await self._enter(sender)
        try:
            yield
        finally:
            self._leave()

    async def _enter(self, sender: str) -> None:
        if self.running < self.limit and not self._waiting:
            self.running += 1
            return
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(sender, collections.deque()).append(future)
        try:
            await future  # resolved by _leave, which hands over its running slot
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._leave()  # the slot was handed over as the client went away
            else:
                self._forget(sender, future)
            raise

    def _forget(self, sender: str, future: asyncio.Future) -> None:
        queue = self._waiting.get(sender)
        if queue is not None and future in queue:
            queue.remove(future)
            if not queue:
                del self._waiting[sender]

    def _leave(self) -> None:
        """Hand the slot to the first waiting request of the next sender in turn."""
        while self._waiting:
            sender, queue = next(iter(self._waiting.items()))
            future = queue.popleft()
            del self._waiting[sender]
            if queue:  # its next request waits at the back of the rotation
                self._waiting[sender] = queue
            if not future.done():
                future.set_result(None)
                return
        self.running -= 1


class Backpressure:
    POLL_S = 0.01

    def __init__(self, backlog: Callable[[str, str], int], *, limit: int, wait_s: float = 5.0):
        self.backlog = backlog  # (channel, schema) -> records held back in this process
        self.limit = limit
        self.wait_s = wait_s
        self._waiting: dict[tuple[str, str], collections.deque[asyncio.Future]] = {}
        self._pollers: set[asyncio.Task] = set()  # referenced, or they may be collected

    async def admit(self, channel: str, schema: str) -> None:
        """Return once `schema`'s backlog leaves room, or after `wait_s`."""
        where = (channel, schema)
        if self.backlog(*where) <= self.limit and where not in self._waiting:
            return
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.setdefault(where, collections.deque()).append(future)
        if len(self._waiting[where]) == 1:
            poller = loop.create_task(self._poll(where))
            self._pollers.add(poller)
            poller.add_done_callback(self._pollers.discard)
        with suppress(TimeoutError):  # waited long enough: go ahead
            await asyncio.wait_for(future, self.wait_s)

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    async def _poll(self, where: tuple[str, str]) -> None:
        """One poller per backlog: every POLL_S, release as many waiters, in order, as
        there is room under the limit."""
        try:
            while True:
                await asyncio.sleep(self.POLL_S)
                queue = collections.deque(f for f in self._waiting[where] if not f.done())
                self._waiting[where] = queue
                room = self.limit - self.backlog(*where)
                while queue and room > 0:
                    queue.popleft().set_result(None)
                    room -= 1
                if not queue:
                    return
        finally:  # also if this task fails or is cancelled: nobody waits on a dead poller
            for future in self._waiting.pop(where, ()):
                if not future.done():
                    future.set_result(None)
