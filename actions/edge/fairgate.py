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

**Backpressure.** Turns share the pipeline, but a flood that is accepted faster than the
workers can run it (fair scheduling holds its records back) still spends the machine's
CPU on accepting work that only waits, and everyone's actions slow down with it. So a
sender whose last action went to a tenant with more than `backlog_limit` records held back
in this process waits, before its turn, until that backlog is below the limit again (at
most `backlog_wait_s`; then it goes ahead: nothing is refused or lost, only admitted at
the pace the tenant's actions run). The records are accepted as before; their clients
get their answers later.

Everything here runs on the process's event loop: no locks.
"""

import asyncio
import collections
from collections.abc import Callable
from contextlib import asynccontextmanager

from tenants.tokens import InvalidToken, claims_from_authorization


def turn_key(authorization: str | None, source: str) -> str:
    """The queue a request waits in for its turn."""
    try:
        claims = claims_from_authorization(authorization)
    except InvalidToken:
        claims = None
    return f"user:{claims['sub']}" if claims else f"address:{source}"


BACKLOG_POLL_S = 0.01


class FairGate:
    def __init__(
        self,
        limit: int,
        *,
        backlog: Callable[[str, str], int] | None = None,
        backlog_limit: int = 0,
        backlog_wait_s: float = 5.0,
    ):
        self.limit = limit
        self.running = 0
        # Senders with requests waiting, in turn order; each its requests' futures in order.
        self._waiting: collections.OrderedDict[str, collections.deque[asyncio.Future]] = (
            collections.OrderedDict()
        )
        # Backpressure: (channel, schema) -> records held back; senders behind a backlog.
        self._backlog = backlog
        self.backlog_limit = backlog_limit if backlog is not None else 0
        self.backlog_wait_s = backlog_wait_s
        self._behind: dict[str, tuple[str, str]] = {}
        self._behind_waiting: dict[tuple[str, str], list[tuple[float, asyncio.Future]]] = {}
        self._pollers: set[asyncio.Task] = set()

    def sent(self, sender: str, channel: str, schema: str) -> None:
        """`sender`'s action was accepted for `schema`: is it behind a backlog there?"""
        if not self.backlog_limit or self._backlog is None:
            return
        if self._backlog(channel, schema) > self.backlog_limit:
            self._behind[sender] = (channel, schema)
        else:
            self._behind.pop(sender, None)

    async def _not_behind(self, sender: str) -> None:
        """Wait while the backlog `sender` last sent to is over the limit (bounded). One
        poller per backlog, however many requests wait behind it."""
        where = self._behind.get(sender)
        if where is None or self._backlog is None or not self._over(where):
            return
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        waiting = self._behind_waiting.setdefault(where, [])
        waiting.append((loop.time() + self.backlog_wait_s, future))
        if len(waiting) == 1:
            poller = loop.create_task(self._poll(where))
            self._pollers.add(poller)  # a task nobody references may be collected
            poller.add_done_callback(self._pollers.discard)
        try:
            await future
        finally:
            if not future.done():  # the client went away
                future.cancel()

    def _over(self, where: tuple[str, str]) -> bool:
        assert self._backlog is not None
        return self._backlog(*where) > self.backlog_limit

    async def _poll(self, where: tuple[str, str]) -> None:
        loop = asyncio.get_running_loop()
        waiting = self._behind_waiting[where]
        while waiting:
            await asyncio.sleep(BACKLOG_POLL_S)
            free, now = not self._over(where), loop.time()
            for deadline, future in list(waiting):
                if free or deadline <= now or future.done():
                    waiting.remove((deadline, future))
                    if not future.done():
                        future.set_result(None)
        del self._behind_waiting[where]

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
        await self._not_behind(sender)
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
