"""The edge's fair turns (actions.edge.fairgate): at most `limit` requests in the pipeline,
and the next turn goes to the tenants in rotation."""

import asyncio

from actions.edge.fairgate import FairGate, tenant_of


def test_the_tenant_is_read_from_the_raw_body():
    assert tenant_of(b'{"api": "1", "tenant": "beta", "payload": {}}') == "beta"
    assert tenant_of('{"tenant" : "acme"}') == "acme"
    assert tenant_of({"tenant": "acme"}) == "acme"
    assert tenant_of(b'{"tenant": 7}') == "" and tenant_of(b"not json") == ""


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
