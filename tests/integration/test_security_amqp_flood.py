"""Issue 13, finding 2: a flood of big hostile anonymous AMQP messages is refused before it
is parsed, so it cannot hold the ingress up for a legitimate message.

The messages go through `actions.edge.ingress.handle` on a pool of 8 threads, as the
ingress process hands them over (IngressProcess._on_message), with the real pipeline,
PostgreSQL, Redis and broker (the legitimate message is stored and published)."""

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from actions.edge import ingress, pipeline, ratelimit
from tests.conftest import envelope

MEMBER = "member@acme.test"
FLOOD = 16
# ~115 KB of text the guard's rules take long over (open values), then one hostile string:
# each message is refused (rejected_input) only after a long inspection.
SLOW = ("a-b_c.d/e?f=g&h=i#j " * 60)[:1000]
HOSTILE_BODY = {"events": [SLOW] * 115 + ["<script>alert(1)</script>"]}


def _hostile() -> bytes:
    env = envelope("webhooks.ingest", {"workspace": "main", "path": "orders", "body": HOSTILE_BODY})
    return json.dumps(env).encode()


def _properties(token: str | None = None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return SimpleNamespace(reply_to=None, correlation_id=None, headers=headers)


def _legit(tokens, started: float | None = None) -> float:
    """Seconds from handing a member's message to the ingress (`started`, default now) to
    its being taken (stored and published)."""
    body = json.dumps(envelope("leads.list", {})).encode()
    started = time.perf_counter() if started is None else started
    ingress.handle("user", body, _properties(tokens[MEMBER]), "leads.list")
    return time.perf_counter() - started


@pytest.fixture
def limits_on(settings):
    settings.SWITCHBOARD = {
        **settings.SWITCHBOARD,
        "RATE_LIMITS_ENABLED": True,
        "RATE_LIMITS": {
            **settings.SWITCHBOARD["RATE_LIMITS"],
            # One big anonymous body per window: the flood's first message is inspected,
            # the others are refused unparsed.
            "anonymous_bytes": {"limit": 150_000, "window_s": 60},
        },
    }
    ratelimit.reset()
    yield settings
    ratelimit.reset()


def test_a_flood_of_big_hostile_anonymous_messages_does_not_hold_up_a_member(
    tokens, limits_on, monkeypatch
):
    answers = []
    real_submit = pipeline.submit

    def submit(item):
        outcome = real_submit(item)
        answers.append(outcome.envelope["error"]["code"] if outcome.envelope["error"] else "ok")
        return outcome

    monkeypatch.setattr(ingress, "submit", submit)
    baseline = statistics.median(_legit(tokens) for _ in range(3))
    # One hostile message alone, for the scale (rate limits off: it is inspected whole).
    monkeypatch.setitem(limits_on.SWITCHBOARD, "RATE_LIMITS_ENABLED", False)
    started = time.perf_counter()
    ingress.handle("user", _hostile(), _properties(), "webhooks.ingest")
    one_hostile = time.perf_counter() - started
    assert answers[-1] == "rejected_input"
    monkeypatch.setitem(limits_on.SWITCHBOARD, "RATE_LIMITS_ENABLED", True)
    answers.clear()

    with ThreadPoolExecutor(8) as pool:  # the ingress process's pool
        flood = [
            pool.submit(ingress.handle, "user", _hostile(), _properties(), "webhooks.ingest")
            for _ in range(FLOOD)
        ]
        legit = pool.submit(_legit, tokens, time.perf_counter())  # queued behind the flood
        under_flood = legit.result(timeout=600)
        for done in flood:
            done.result(timeout=600)
    print(
        f"\n== AMQP flood: member's message {baseline * 1e3:.0f} ms alone, "
        f"{under_flood * 1e3:.0f} ms behind {FLOOD} hostile anonymous messages of "
        f"{len(_hostile()) // 1000} KB ({one_hostile * 1e3:.0f} ms each when inspected); "
        f"answers {sorted(answers)}"
    )
    assert answers.count("rate_limited") >= FLOOD - 2  # refused before they were parsed
    assert answers.count("ok") == 1
    # Unthrottled, the member waits for the whole flood (~FLOOD x one_hostile on two cores
    # under the GIL); throttled, for at most the few big bodies the byte budget lets in.
    assert under_flood < 3 * one_hostile + 10 * baseline


def _small_hostile(reply_to: str | None) -> dict:
    """A small hostile anonymous webhook message through the pipeline: its error."""
    from actions.contract.registry import Channel
    from actions.edge.pipeline import Ingress, submit

    small = {"workspace": "main", "path": "orders", "body": {"x": "<script>1</script>"}}
    outcome = submit(
        Ingress(
            channel=Channel.USER,
            body=json.dumps(envelope("webhooks.ingest", small)).encode(),
            transport="amqp",
            source="amqp",
            reply_to=reply_to,
        )
    )
    return outcome.envelope["error"]


def test_an_anonymous_amqp_sender_has_a_refusal_budget_of_its_own(limits_on):
    limits_on.SWITCHBOARD["RATE_LIMITS"]["refusals"] = {"limit": 3, "window_s": 60}

    def send(address: str) -> dict:
        return _small_hostile(f"amq.rabbitmq.reply-to.g1h2AA5yZXBseUAy.{address}")

    assert [send("Aaaa")["code"] for _ in range(3)] == ["rejected_input"] * 3
    throttled = send("Aaaa")
    assert throttled["code"] == "rate_limited"
    assert throttled["details"]["scope"] == "refusals"
    assert send("Bbbb")["code"] == "rejected_input"  # another channel: its own budget


def test_anonymous_amqp_senders_without_a_reply_address_share_one_refusal_budget(limits_on):
    """No reply-to, no token: nothing tells one sender from another, so they share one
    budget; before, such a flood of small hostile messages was never throttled."""
    limits_on.SWITCHBOARD["RATE_LIMITS"]["refusals"] = {"limit": 3, "window_s": 60}

    def send() -> dict:
        return _small_hostile(None)

    assert [send()["code"] for _ in range(3)] == ["rejected_input"] * 3
    throttled = send()
    assert (throttled["code"], throttled["details"]["scope"]) == ("rate_limited", "refusals")


def test_a_junk_authorization_header_does_not_escape_the_anonymous_budgets(limits_on):
    """A header that is not a token that verifies makes nobody known: the message is still
    an anonymous one, refused before it is parsed once the anonymous budget is spent."""
    from actions.contract.registry import Channel
    from actions.edge.pipeline import NO_REPLY_SENDER, Ingress, submit

    limits_on.SWITCHBOARD["RATE_LIMITS"]["refusals"] = {"limit": 3, "window_s": 60}
    window = int(time.time() // 60)
    ratelimit._client().set(
        ratelimit._key("refusals", f"sender:{NO_REPLY_SENDER}", "60", str(window)), 3, ex=61
    )
    outcome = submit(
        Ingress(
            channel=Channel.USER,
            body=b"{not even json",  # never parsed: refused first
            authorization="Bearer junk",
            transport="amqp",
            source="amqp",
            reply_to=None,
        )
    )
    error = outcome.envelope["error"]
    assert (error["code"], error["details"]["scope"]) == ("rate_limited", "refusals")
