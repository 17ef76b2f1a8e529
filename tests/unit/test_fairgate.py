"""The edge's fair turns (actions.edge.fairgate): at most `limit` requests in the pipeline,
and the next turn goes to the senders in rotation."""

import asyncio
import time

import jwt
from django.conf import settings

from actions.edge.fairgate import Backpressure, FairGate, turn_key


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


def test_requests_for_a_tenant_over_its_backlog_limit_wait_and_go_in_order_as_it_drains():
    backlog = {("user", "acme"): 150}

    async def scenario():
        pressure = Backpressure(lambda c, s: backlog.get((c, s), 0), limit=100)
        order = []

        async def request(name: str, schema: str):
            await pressure.admit("user", schema)
            order.append(name)
            if schema == "acme":  # its record is held back in turn
                backlog[("user", "acme")] += 1

        flood = [asyncio.create_task(request(f"acme{i}", "acme")) for i in range(3)]
        await asyncio.sleep(0)
        await asyncio.wait_for(request("beta", "beta"), 0.01)  # another tenant: no wait
        await asyncio.sleep(0.05)
        assert order == ["beta"]  # acme's still wait: 150 held back, limit 100
        backlog[("user", "acme")] = 99  # room for one, taken by the first
        await asyncio.sleep(0.05)
        assert order == ["beta", "acme0"]
        backlog[("user", "acme")] = 0
        await asyncio.wait_for(asyncio.gather(*flood), 1.0)
        await asyncio.sleep(0)
        return order, pressure

    order, pressure = asyncio.run(scenario())
    assert order == ["beta", "acme0", "acme1", "acme2"]
    assert pressure.waiting == 0 and not pressure._pollers


def test_the_wait_behind_a_backlog_is_bounded_and_a_cancelled_waiter_is_forgotten():
    async def scenario():
        pressure = Backpressure(lambda c, s: 10_000, limit=100, wait_s=0.1)
        started = time.monotonic()
        await pressure.admit("user", "acme")
        took = time.monotonic() - started
        gone = asyncio.create_task(pressure.admit("user", "acme"))
        await asyncio.sleep(0.02)
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        await asyncio.sleep(0.05)  # the poller finds nobody waiting and ends
        return took, pressure

    took, pressure = asyncio.run(scenario())
    assert 0.1 <= took < 1.0  # it went ahead after wait_s: nothing is refused
    assert pressure.waiting == 0 and not pressure._pollers


def test_a_failing_backlog_reading_releases_every_waiter():
    calls = [0]

    def backlog(channel, schema):
        calls[0] += 1
        if calls[0] > 1:  # the first answer makes them wait, the poller's then fails
            raise RuntimeError("backlog unreadable")
        return 10_000

    async def scenario():
        pressure = Backpressure(backlog, limit=100, wait_s=30)
        await asyncio.wait_for(pressure.admit("user", "acme"), 1.0)
        return pressure

    pressure = asyncio.run(scenario())
    assert pressure.waiting == 0
