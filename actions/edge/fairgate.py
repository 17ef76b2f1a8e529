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
Everything here runs on the process's event loop: no locks.
"""

import asyncio
import collections
from contextlib import asynccontextmanager

from tenants.tokens import InvalidToken, claims_from_authorization


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
