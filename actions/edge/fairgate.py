"""Fair turns at the edge: how a web process shares its pipeline between tenants.

The outbox keeps one tenant from filling the broker queue (actions.delivery.fairness), but
the web process is shared too: a tenant whose clients send as fast as they can keeps every
pipeline thread busy, and another tenant's request waits behind all of theirs. So at most
`limit` requests run the pipeline (steps 1-9, `submit`) at once per process, and when more
wait, the next turn goes to the tenants in rotation, each tenant's requests in order
(docs/architecture.md, "Fairness"). Waiting for an action's answer (`?wait`) takes no turn.

The tenant is read from the raw body before anything is parsed (the envelope's `tenant`
field, by a bounded search); it decides only the order of turns, never access: a body
that names another tenant only queues behind that tenant's requests.
Everything here runs on the process's event loop: no locks.
"""

import asyncio
import collections
import re
from contextlib import asynccontextmanager

_TENANT = re.compile(rb'"tenant"\s*:\s*"([A-Za-z0-9_.-]{1,64})"')


def tenant_of(body: bytes | str | dict) -> str:
    """The envelope's tenant as the body spells it, or "" (no turn of its own)."""
    if isinstance(body, dict):
        tenant = body.get("tenant")
        return tenant if isinstance(tenant, str) else ""
    raw = body.encode() if isinstance(body, str) else body
    found = _TENANT.search(raw, 0, 4096)
    return found.group(1).decode() if found else ""


class FairGate:
    def __init__(self, limit: int):
        self.limit = limit
        self.running = 0
        # Tenants with requests waiting, in turn order; each its requests' futures in order.
        self._waiting: collections.OrderedDict[str, collections.deque[asyncio.Future]] = (
            collections.OrderedDict()
        )

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @asynccontextmanager
    async def turn(self, tenant: str):
        await self._enter(tenant)
        try:
            yield
        finally:
            self._leave()

    async def _enter(self, tenant: str) -> None:
        if self.running < self.limit and not self._waiting:
            self.running += 1
            return
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(tenant, collections.deque()).append(future)
        try:
            await future  # resolved by _leave, which hands over its running slot
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._leave()  # the slot was handed over as the client went away
            else:
                self._forget(tenant, future)
            raise

    def _forget(self, tenant: str, future: asyncio.Future) -> None:
        queue = self._waiting.get(tenant)
        if queue is not None and future in queue:
            queue.remove(future)
            if not queue:
                del self._waiting[tenant]

    def _leave(self) -> None:
        """Hand the slot to the first waiting request of the next tenant in turn."""
        while self._waiting:
            tenant, queue = next(iter(self._waiting.items()))
            future = queue.popleft()
            del self._waiting[tenant]
            if queue:  # its next request waits at the back of the rotation
                self._waiting[tenant] = queue
            if not future.done():
                future.set_result(None)
                return
        self.running -= 1
