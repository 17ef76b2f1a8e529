"""The edge's fair turns (actions.edge.fairgate): at most `limit` requests in the pipeline,
and the next turn goes to the senders in rotation."""

import asyncio
import time

import jwt
from django.conf import settings

from actions.edge.fairgate import FairGate, turn_key


def test_a_request_waits_in_its_senders_queue():
    now = int(time.time())
    claims = {"iss": settings.SWITCHBOARD["JWT_ISSUER"], "sub": "7", "jti": "fair-1"}
    claims |= {"typ": "access", "iat": now, "exp": now + 60}
    token = jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")
    assert turn_key(f"Bearer {token}", "198.51.100.7") == "user:7"
    # No token, a forged one, a refresh token: the client's address, whatever the body says.
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert turn_key(None, "198.51.100.7") == "address:198.51.100.7"
    assert turn_key(f"Bearer {forged}", "198.51.100.7") == "address:198.51.100.7"
    assert turn_key("Basic xyz", "198.51.100.7") == "address:198.51.100.7"


def test_turns_rotate_over_tenants_and_never_exceed_the_limit():
    async def scenario():
        gate, order, running, peak = FairGate(limit=2), [], [0], [0]
        release = asyncio.Event()

        async def request(tenant: str, n: int):
            async with gate.turn(tenant):
                running[0] += 1
                peak[0] = max(peak[0], running[0])
                order.append(f"{tenant}{n}")
                await release.wait()
                await asyncio.sleep(0)
                running[0] -= 1

        tasks = [asyncio.create_task(request("acme", i)) for i in range(6)]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(request("beta", 0)))
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*tasks)
        return order, peak[0], gate

    order, peak, gate = asyncio.run(scenario())
    assert peak == 2 and gate.running == 0 and gate.waiting == 0
    # Two of acme's ran at once; beta, arriving behind four more of acme's, had the second
    # turn after them (first in first out, it would have been last).
    assert order == ["acme0", "acme1", "acme2", "beta0", "acme3", "acme4", "acme5"], order


def test_a_waiting_request_that_is_cancelled_gives_back_nothing_it_did_not_have():
    async def scenario():
        gate = FairGate(limit=1)
        hold = asyncio.Event()

        async def first():
            async with gate.turn("acme"):
                await hold.wait()

        async def waiting():
            async with gate.turn("beta"):
                pass

        one = asyncio.create_task(first())
        await asyncio.sleep(0)
        two = asyncio.create_task(waiting())
        await asyncio.sleep(0)
        two.cancel()
        await asyncio.gather(two, return_exceptions=True)
        hold.set()
        await one
        return gate

    gate = asyncio.run(scenario())
    assert gate.running == 0 and gate.waiting == 0


def test_a_sender_behind_a_deep_backlog_waits_until_it_drains_and_others_do_not():
    backlog = {("user", "acme"): 150}

    async def scenario():
        gate = FairGate(limit=2, backlog=lambda c, s: backlog.get((c, s), 0), backlog_limit=100)
        gate.sent("user:1", "user", "acme")  # acme's flood: 150 held back
        gate.sent("user:2", "user", "beta")  # beta: nothing held back
        order = []

        async def request(sender: str):
            async with gate.turn(sender):
                order.append(sender)

        flood = asyncio.create_task(request("user:1"))
        other = asyncio.create_task(request("user:2"))
        await other
        await asyncio.sleep(0.05)
        assert not flood.done()  # still waiting: the backlog is over the limit
        backlog[("user", "acme")] = 100  # drained to the limit
        await asyncio.wait_for(flood, 1.0)
        # Sent again while the backlog is fine: no longer behind.
        gate.sent("user:1", "user", "acme")
        started = time.monotonic()
        await request("user:1")
        return order, time.monotonic() - started, gate

    order, took, gate = asyncio.run(scenario())
    assert order == ["user:2", "user:1", "user:1"]
    assert took < 0.01 and gate.running == 0 and not gate._behind_waiting


def test_the_wait_behind_a_backlog_is_bounded_and_a_cancelled_waiter_is_forgotten():
    async def scenario():
        gate = FairGate(limit=2, backlog=lambda c, s: 10_000, backlog_limit=100, backlog_wait_s=0.1)
        gate.sent("user:1", "user", "acme")
        started = time.monotonic()
        async with gate.turn("user:1"):
            took = time.monotonic() - started
        gone = asyncio.create_task(gate.turn("user:1").__aenter__())
        await asyncio.sleep(0.02)
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        await asyncio.sleep(0.05)  # the poller notices and ends
        return took, gate

    took, gate = asyncio.run(scenario())
    assert 0.1 <= took < 0.5  # it went ahead after backlog_wait_s: nothing is refused
    assert gate.running == 0 and not gate._behind_waiting
