"""Fair scheduling between tenants (actions/delivery/fairness.py): a flooding tenant never
has more than its cap of actions published and unfinished, another tenant's action goes
out before the flood has drained, everything runs exactly once, and what a dead publisher
held back is published by the sweep. Not timed: tests/bench/test_fairness_bench.py is."""

import threading
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from actions.contract.registry import Channel
from actions.delivery import fairness, outbox
from actions.edge.pipeline import Ingress, submit
from actions.models import FINISHED, ActionRecord, CtaEvent
from tests.conftest import envelope
from tests.records import stored

pytestmark = pytest.mark.usefixtures("workers")
CAP = 3


@pytest.fixture
def capped(monkeypatch):
    """Fair scheduling with a cap of CAP on the user channel, a fresh publisher, no slots
    left over from other tests, and a spy on every task message published."""
    conf = {**settings.SWITCHBOARD, "TENANT_INFLIGHT_CAP": {"user": CAP, "admin": CAP}}
    # The cap alone; the shared cap has its own test (it would turn on whenever another
    # tenant asked for a slot within the last second, earlier tests' included).
    conf["TENANT_INFLIGHT_SHARED_CAP"] = {"user": 0, "admin": 0}
    monkeypatch.setattr(settings, "SWITCHBOARD", conf)
    for publisher in list(outbox._publishers.values()):  # an earlier test's publishes
        publisher.flush()  # take their slots now, before the slots are emptied below
    monkeypatch.setattr(outbox, "_publishers", {})
    client = fairness._client()
    for schema in ("acme", "beta"):  # earlier tests' slots, and their publishers' claims
        client.delete(fairness.key("user", schema), fairness._serving_key("user", schema))
    client.delete(fairness._light_key("user"))  # who asked for slots lately
    published: list[tuple[str, str]] = []  # (schema, record id), in publishing order
    real = outbox.task_message

    def spy(item, **kwargs):
        for one in [item, *kwargs.get("also", ())]:  # a message may carry several records
            published.append((one.schema, one.record_id))
        return real(item, **kwargs)

    monkeypatch.setattr(outbox, "task_message", spy)
    yield published
    # This test's publishers live on as threads: what they still hold back must not be
    # refilled into a later test's fresh slots (their records stay in the database).
    for publisher in list(outbox._publishers.values()):
        publisher._backlog.clear()


def _send(token: str, tenant: str, surface: str) -> str:
    env = envelope(
        "analytics.cta.record",
        {"surface": surface, "cta_id": "signup", "event": "click"},
        tenant=tenant,
    )
    outcome = submit(Ingress(channel=Channel.USER, body=env, authorization=f"Bearer {token}"))
    assert outcome.envelope["status"] == "pending", outcome.envelope
    return env["id"]


def _flood(schema: str, surface: str, n: int) -> list[str]:
    """n records stored and handed to the outbox as step 9 of the pipeline does, without
    steps 1-8 (on this shared machine they cost more than the worker takes to run one)."""
    from actions.records import record_store
    from tenants.models import User

    user = User.objects.get(email=f"member@{schema}.test")
    ids = []
    for _ in range(n):
        record = record_store(
            schema=schema,
            id=str(uuid.uuid4()),
            action="analytics.cta.record",
            version=1,
            channel="user",
            transport="rest",
            actor_id=user.pk,
            actor_email=user.email,
            payload={"surface": surface, "cta_id": "signup", "event": "click"},
            payload_hash="x",
            meta={},
            trace_id=uuid.uuid4().hex,
            reply_to=[],
        )
        assert record is not None
        outbox.publish(schema=schema, record=record)
        ids.append(str(record.id))
    return ids


def _finished(schema: str, ids: list[str]) -> set[str]:
    with schema_context(schema):
        return {
            str(i)
            for i in ActionRecord.objects.filter(id__in=ids, status__in=FINISHED).values_list(
                "id", flat=True
            )
        }


def _wait_all_finished(schema: str, ids: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_finished(schema, ids)) == len(ids):
            return
        time.sleep(0.1)
    raise AssertionError(f"{len(ids) - len(_finished(schema, ids))} records did not finish")


def _exactly_once(schema: str, ids: list[str], surface: str) -> None:
    with schema_context(schema):
        records = list(ActionRecord.objects.filter(id__in=ids))
        assert len(records) == len(ids)
        assert all(r.status == "ok" and r.attempts == 1 for r in records), [
            (r.status, r.attempts, r.error) for r in records if r.status != "ok" or r.attempts != 1
        ]
        assert CtaEvent.objects.filter(surface=surface).count() == len(ids)  # no effect twice


def test_a_flood_stays_within_its_cap_and_another_tenant_goes_first(capped, tokens):
    published = capped
    surface = f"fair-{uuid.uuid4().hex[:8]}"
    flood_n = 200
    worst = [0]
    stop = threading.Event()

    def watch():  # published (by the spy) and not finished, sampled while the flood runs
        while not stop.is_set():
            out = [i for s, i in list(published) if s == "acme"]
            unfinished = len(out) - len(_finished("acme", out)) if out else 0
            worst[0] = max(worst[0], unfinished)
            time.sleep(0.005)
        connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        flood = _flood("acme", surface, flood_n)
        other = _send(tokens["member@beta.test"], "beta", surface)
        _wait_all_finished("beta", [other], timeout=30)
        acme_out_before_beta = [s for s, _ in published[: published.index(("beta", other))]]
        _wait_all_finished("acme", flood)
    finally:
        stop.set()
        watcher.join()

    assert 0 < worst[0] <= CAP, f"at most {CAP} published and unfinished, saw {worst[0]}"
    # beta's action went out while acme's flood still waited in acme's table.
    assert len(acme_out_before_beta) < flood_n
    flood_published = [i for s, i in published if s == "acme"]
    assert sorted(flood_published) == sorted(flood), "each record published exactly once"
    _exactly_once("acme", flood, surface)
    _exactly_once("beta", [other], surface)
    # Every slot was freed by the workers (each frees its slot just after it answers).
    deadline = time.monotonic() + 5
    while fairness.in_flight("user", ["acme", "beta"]) != {"acme": 0, "beta": 0}:
        assert time.monotonic() < deadline, fairness.in_flight("user", ["acme", "beta"])
        time.sleep(0.05)


def test_what_a_dead_publisher_held_back_is_published_by_the_sweep(capped, tokens, monkeypatch):
    published = capped
    surface = f"fair-dead-{uuid.uuid4().hex[:8]}"
    # The publisher "dies": records are stored and committed, never published; two of them
    # even took their slots first.
    monkeypatch.setattr(outbox, "publish", lambda **kwargs: None)
    ids = [_send(tokens["member@acme.test"], "acme", surface) for _ in range(12)]
    taken = fairness.acquire("user", {"acme": ids[:2]})["acme"]
    assert taken.granted == set(ids[:2])
    assert not published

    time.sleep(0.05)  # the slots were taken before the sweep's grace (0 s here)
    assert outbox.sweep(older_than_s=0) >= 1
    _wait_all_finished("acme", ids)
    _exactly_once("acme", ids, surface)
    # (other tests' unpublished records of acme may go out with them: also the outbox's job)
    assert sorted(i for _, i in published if i in set(ids)) == sorted(ids)


def test_held_back_records_read_from_the_table_are_not_published_once_published(capped):
    """A publisher that adopted a tenant's backlog read its unpublished records; one of
    them was published meanwhile (by the sweep) and has run. When its slot comes, it is
    not published again, and the slot is freed; the other still goes out."""
    from django.utils import timezone

    done = stored("acme", status="ok", published_at=timezone.now(), finished_at=timezone.now())
    waiting = stored("acme")
    publisher = outbox.Publisher("user")
    held = publisher._held("acme")
    for record in (done, waiting):  # as `_refill` reads them from the table
        held.items.append(outbox.Pending("acme", str(record.id), "user", record.action, None))
        held.from_table.add(str(record.id))
    try:
        publisher._refill()
    finally:
        publisher.close()
    assert [i for _, i in capped] == [str(waiting.id)]
    assert str(done.id) not in fairness.held("user", ["acme"]).get("acme", [])
    _wait_all_finished("acme", [str(waiting.id)])


def test_the_sweep_frees_the_slots_of_finished_and_vanished_records(capped, tokens):
    surface = f"fair-heal-{uuid.uuid4().hex[:8]}"
    done = _send(tokens["member@acme.test"], "acme", surface)
    _wait_all_finished("acme", [done])
    ghost = str(uuid.uuid4())
    # A worker died between committing and freeing its slot; a record was deleted.
    fairness.acquire("user", {"acme": [done, ghost]})
    assert fairness.in_flight("user", ["acme"]) == {"acme": 2}
    outbox.sweep(older_than_s=3600)
    assert not {done, ghost} & set(fairness.held("user", ["acme"]).get("acme", []))


def test_a_late_copy_of_a_finished_records_task_frees_its_slot(capped, tokens):
    """A worker died after committing a record of a message it shared and before freeing
    the record's slot; the split (actions.worker.tasks) publishes a copy for every record
    without asking the database. The copy finds the record finished: skipped, slot freed."""
    from actions.worker import executor

    done = _send(tokens["member@acme.test"], "acme", f"fair-copy-{uuid.uuid4().hex[:8]}")
    _wait_all_finished("acme", [done])
    fairness.acquire("user", {"acme": [done]})
    assert done in fairness.held("user", ["acme"])["acme"]
    status = executor.execute(
        channel="user",
        schema="acme",
        record_id=done,
        worker="copy",
        redelivered=True,
        slot=True,
        take_over=False,
    )
    assert status == "skipped"
    assert done not in fairness.held("user", ["acme"]).get("acme", [])


def test_without_a_cap_records_go_out_without_slots(capped, tokens, monkeypatch):
    conf = {**settings.SWITCHBOARD, "TENANT_INFLIGHT_CAP": {"user": 0, "admin": 0}}
    monkeypatch.setattr(settings, "SWITCHBOARD", conf)
    surface = f"fair-off-{uuid.uuid4().hex[:8]}"
    ids = [_send(tokens["member@acme.test"], "acme", surface) for _ in range(10)]
    _wait_all_finished("acme", ids)
    _exactly_once("acme", ids, surface)
    assert fairness._client().exists(fairness.key("user", "acme")) == 0


def test_a_tenant_alone_uses_its_whole_cap_and_shares_down_to_the_shared_cap(capped, monkeypatch):
    conf = {**settings.SWITCHBOARD, "TENANT_INFLIGHT_SHARED_CAP": {"user": 1, "admin": 1}}
    monkeypatch.setattr(settings, "SWITCHBOARD", conf)
    acme = [str(uuid.uuid4()) for _ in range(CAP + 2)]
    beta = str(uuid.uuid4())

    def ask(schema: str, ids: list[str]) -> fairness.Grant:
        return fairness.acquire("user", {schema: ids})[schema]

    assert ask("acme", acme[: CAP + 1]).granted == set(acme[:CAP])  # alone: the whole cap
    assert ask("beta", [beta]).granted == {beta}  # beta holds none: its first goes out
    # acme competes now: it holds CAP - 1 after one finished, still not below the shared
    # cap (alone it would have room for one more).
    fairness.forget("user", "acme", acme[:1])
    assert ask("acme", [acme[CAP]]).refused == {acme[CAP]}
    fairness.forget("user", "acme", acme[:CAP])
    assert ask("acme", [acme[CAP], acme[CAP + 1]]).granted == {acme[CAP]}
    # The sweep's takeover (recovery) is held to the cap only, not to the shared cap.
    swept = [str(uuid.uuid4()) for _ in range(CAP - 1)]
    takeover = fairness.acquire("user", {"acme": swept}, refresh_before=time.time() - 60)
    assert takeover["acme"].granted == set(swept)
    fairness.forget("user", "acme", swept)
    time.sleep(fairness.ACTIVE_WINDOW_S + 0.1)  # beta asked nothing since: acme is alone again
    assert ask("acme", [acme[CAP + 1]]).granted == {acme[CAP + 1]}
    fairness.forget("user", "acme", acme)
    fairness.forget("user", "beta", [beta])


def test_the_edge_holds_requests_for_a_tenant_whose_backlog_is_over_the_limit(tokens, monkeypatch):
    """The gateway's wiring of fairgate.Backpressure: the tenant the envelope names, the
    process's backlog of that tenant, the limit from the settings."""
    import asyncio
    import json
    import weakref

    from actions.edge import gateway

    conf = {**settings.SWITCHBOARD, "EDGE_BACKLOG_LIMIT": 100}
    monkeypatch.setattr(settings, "SWITCHBOARD", conf)
    backlog = {"acme": 500}
    monkeypatch.setattr(outbox, "held_back", lambda channel, schema: backlog.get(schema, 0))
    monkeypatch.setattr(outbox, "deepest_backlog", lambda channel: max(backlog.values()))
    monkeypatch.setattr(gateway, "_pressures", weakref.WeakKeyDictionary())

    def ingress(tenant: str) -> Ingress:
        env = envelope(
            "analytics.cta.record",
            {"surface": "backpressure", "cta_id": "signup", "event": "click"},
            tenant=tenant,
        )
        return Ingress(
            channel=Channel.USER,
            body=json.dumps(env).encode(),
            authorization=f"Bearer {tokens[f'member@{tenant}.test']}",
            transport="rest",
            source="127.0.0.1",
        )

    async def scenario():
        loop = asyncio.get_running_loop()
        held = asyncio.create_task(gateway._submit_in_turn(ingress("acme")))
        other = await asyncio.wait_for(gateway._submit_in_turn(ingress("beta")), 10)
        await asyncio.sleep(0.2)
        waited = not held.done()
        loop.call_soon(backlog.update, {"acme": 0})  # acme's backlog drains
        return other, waited, await asyncio.wait_for(held, 10)

    other, waited, held = asyncio.run(scenario())
    assert other.envelope["status"] == "pending"  # beta's went straight through
    assert waited, "acme's request did not wait for acme's backlog"
    assert held.envelope["status"] == "pending"  # then it was accepted: nothing refused


def test_busy_tenants_among_themselves_keep_the_whole_cap(capped, monkeypatch):
    """The shared cap makes room for a light tenant's actions; two tenants that both have
    more than their slots split the workers with the cap, not with the shared cap."""
    conf = {**settings.SWITCHBOARD, "TENANT_INFLIGHT_SHARED_CAP": {"user": 1, "admin": 1}}
    monkeypatch.setattr(settings, "SWITCHBOARD", conf)
    acme = [str(uuid.uuid4()) for _ in range(CAP + 2)]
    beta = [str(uuid.uuid4()) for _ in range(CAP + 1)]

    def ask(schema: str, ids: list[str]) -> fairness.Grant:
        return fairness.acquire("user", {schema: ids})[schema]

    assert ask("acme", acme[: CAP + 1]).refused == {acme[CAP]}  # busy: some held back
    assert ask("beta", beta).granted == set(beta[:CAP])  # busy too: the whole cap
    fairness.forget("user", "acme", acme[:1])
    assert ask("acme", [acme[CAP]]).granted == {acme[CAP]}  # nobody light: still the cap
    fairness.forget("user", "acme", acme)
    fairness.forget("user", "beta", beta)
