"""Fault tests (issue 12; docs/reliability.md): worker processes killed, the broker stopped,
the database restarted and a poison message, each under load, on classic and quorum queues.
Every test prints sent, accepted, completed, lost, duplicated and the time to recover.

The system runs as separate processes against a private PostgreSQL and RabbitMQ
(conftest.py); sizes scale with SWITCHBOARD_FAULT_SCALE."""

import json
import random
import time

import pytest
from kombu import Connection

from actions.worker.executor import MAX_ATTEMPTS
from tests.reliability.stack import POISON, Load, cta, manage, scale, tally

# The timeout covers the session's set-up of the private services too (slow on a busy host).
pytestmark = [pytest.mark.reliability, pytest.mark.timeout(1200)]
SERVE_WITHIN_S = 30  # the channel serves again this soon after the dependency is back
OUTAGE_S = 30  # longer than 20 requeues a second apart
SPLIT = "a redelivered message of"  # the worker's line when it splits a message
WAITING = "the database is away: waiting"  # the worker's line when it waits for it


def _assert_promise(figures: dict) -> None:
    assert figures["lost"] == 0, figures
    assert figures["duplicated"] == 0, figures
    assert figures["effect_without_ok"] == 0 and figures["ok_without_effect"] == 0, figures
    assert figures["unclean"] == 0, figures  # no 500: only accepted or `unavailable`


def _database_fault(stack, private, token, *, name: str, count: int, outage) -> tuple:
    """Load the stack while `outage()` takes PostgreSQL away and brings it back; (the
    figures, seconds until the channel served again). Asserts the promise."""
    load, ledger, timing = Load(stack, token), private.ledger(), {}

    def fault():
        outage()
        timing["serve_s"] = stack.probe(token, timeout=90)

    load.run(count, during=fault)
    drained = ledger.wait_finished(load.accepted, timeout=180)
    figures = tally(
        f"{name} [{stack.queue_type}]",
        load,
        ledger,
        recovery_s=timing["serve_s"],
        extra=f" drained_s={drained:.1f}",
    )
    _assert_promise(figures)
    return figures, timing["serve_s"]


def test_postgres_restart_during_load(stack, private, token):
    """Every accepted action completes once; clients get 2xx or `unavailable` (503), never
    `internal_error`; the channel serves within SERVE_WITHIN_S of the database's return."""

    def outage():
        time.sleep(1.5)
        private.pg.restart()

    _, serve_s = _database_fault(
        stack, private, token, name="postgres restart", count=scale(300), outage=outage
    )
    assert serve_s <= SERVE_WITHIN_S


def test_postgres_away_for_half_a_minute(stack, private, token):
    """A longer database outage (half a minute) under load: clients get `unavailable`
    and send again, every accepted action completes once, the channel serves within
    SERVE_WITHIN_S of the database's return, and nothing is parked in the dead-letter
    queue. (Workers wait for the database rather than requeue their messages every
    second, which a quorum queue would count toward its delivery limit:
    tests/unit/test_requeue_waits_for_the_database.py.)"""

    def outage():
        time.sleep(1.0)
        private.pg.stop()
        try:
            time.sleep(OUTAGE_S)
        finally:
            private.pg.start()

    figures, serve_s = _database_fault(
        stack, private, token, name=f"postgres away {OUTAGE_S} s", count=scale(200), outage=outage
    )
    assert figures["completed"] == figures["accepted"]
    assert serve_s <= SERVE_WITHIN_S
    report = _queues(private, stack)
    assert report["switchboard.user.dead"]["messages"] == 0, report


def test_a_worker_stopped_while_the_database_is_away_stops_at_once(stack, private, token):
    """Worker threads that lost the database wait for it (DATABASE_WAIT_S) holding their
    messages; a SIGTERM meanwhile ends the wait, the messages go back to the queue, and
    the worker exits in seconds instead of after the wait. The records (stored, not run:
    their only messages are the ones published here, two each) then run exactly once:
    the messages were put back, not lost, and the second copy is skipped."""
    from actions.delivery.outbox import Pending, task_message
    from actions.worker.tasks import DATABASE_WAIT_S
    from config.queues import exchange_name, routing_key

    load, ledger = Load(stack, token), private.ledger()
    load.run(6)
    ledger.wait_finished(load.accepted, timeout=60)
    waiting = ledger.stored_like(load.accepted)
    log = stack.log_dir / "worker0.log"
    waits_before = log.read_text(errors="replace").count(WAITING)
    private.pg.stop()
    try:
        with Connection(private.user_url, connect_timeout=10) as conn:
            channel = conn.default_channel
            for record_id in waiting * 2:  # more than the two workers' 8 threads take
                item = Pending("acme", record_id, "user", "analytics.cta.record", None)
                channel.basic_publish(
                    task_message(item),
                    exchange=exchange_name("user"),
                    routing_key=routing_key(channel="user", tenant="acme", action=item.action),
                )
        deadline = time.monotonic() + 30
        while log.read_text(errors="replace").count(WAITING) == waits_before:
            assert time.monotonic() < deadline, "worker0 never waited for the database"
            time.sleep(0.2)
        time.sleep(1.0)
        worker = stack.procs["worker0"]
        started = time.monotonic()
        worker.terminate()
        worker.wait(timeout=DATABASE_WAIT_S + 30)
        took = time.monotonic() - started
    finally:
        private.pg.start()
    print(f"\n[faults] [{stack.queue_type}] worker stopped {took:.1f} s after SIGTERM while "
          f"the database was away (its wait: up to {DATABASE_WAIT_S:.0f} s); "
          f"{len(waiting)} records, 2 messages each")  # fmt: skip
    assert took < DATABASE_WAIT_S / 3
    assert ledger.wait_finished(waiting, timeout=120) != float("inf"), ledger.records(waiting)
    assert {status for status, *_ in ledger.records(waiting).values()} == {"ok"}
    effects = ledger.side_effects(waiting)
    assert len(effects) == len(waiting) and set(effects.values()) == {1}, effects


def _queues(private, stack) -> dict:
    """What system.queues' inspection says of every queue (in the stack's environment)."""
    return json.loads(
        manage(
            {**private.env, "SWITCHBOARD_QUEUE_TYPE": stack.queue_type},
            "shell",
            "-c",
            "import json; from adminchannel.monitoring import queue_inspect; "
            "print(json.dumps(queue_inspect(), default=str))",
        )
        .strip()
        .splitlines()[-1]
    )


def test_poison_message_is_dead_lettered(stack, private, token):
    """A message that kills every worker that runs it is tried MAX_ATTEMPTS times, then its
    record answers internal_error, the message is parked in the dead-letter queue, the
    central error log has it and system.queues' inspection counts it; the rest flows."""
    load, ledger = Load(stack, token), private.ledger()
    poison = cta(POISON)
    load.send_one(poison)
    started = time.monotonic()
    load.run(scale(150))
    assert ledger.wait_finished([poison["id"]], timeout=240) < float("inf")
    given_up_s = time.monotonic() - started
    ledger.wait_finished(load.accepted, timeout=120)
    status, attempts, error = ledger.records([poison["id"]])[poison["id"]]
    assert status == "error" and error["code"] == "internal_error", error
    assert attempts == MAX_ATTEMPTS + 1 and error["details"]["dead_lettered"]
    load.answers.pop(poison["id"])
    figures = tally(
        f"poison message [{stack.queue_type}]",
        load,
        ledger,
        recovery_s=given_up_s,
        extra=f" poison_attempts={attempts - 1} worker_restarts={stack.restarts}",
    )
    _assert_promise(figures)
    assert figures["completed"] == figures["accepted"]
    # The central error log has the give-up under the record's id.
    lines = (private.tmp / "logs" / "errors.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines if poison["id"] in line]
    assert any("Gave up" in e.get("message", "") for e in entries), entries
    # The shared queue inspection (what system.queues answers) counts the parked message.
    report = _queues(private, stack)
    assert report["switchboard.user.dead"]["messages"] >= 1, report
    assert report["switchboard.user.actions"]["messages"] == 0, report


_PUBLISH_TOGETHER = """
import json
from actions.delivery.outbox import Pending, Publisher
from tests.records import stored
records = [
    stored("acme", "analytics.cta.record", payload={"surface": s, "cta_id": "c", "event": "view"})
    for s in SURFACES
]
publisher = Publisher("user")
publisher.publish_batch([Pending.of(r, schema="acme") for r in records], most=len(records))
publisher.close()
print(json.dumps([str(r.id) for r in records]))
"""


def _worker_logs(stack) -> str:
    return "".join(path.read_text() for path in stack.log_dir.glob("worker*.log"))


def test_a_poison_record_holds_back_no_other_record_of_its_message(stack, private, token):
    """Three records in one task message (the outbox's `together`), the middle one poison:
    its first crash has the message redelivered, which the worker splits (each record goes
    on in a message of its own): the others finish, each once, and the poison is
    dead-lettered after its own attempts. (Whether the others finish before the poison
    gives up is chance: a message prefetched beside a poison one dies with it.)"""
    splits_before = _worker_logs(stack).count(f"{SPLIT} 3 records")
    out = manage(
        stack.env,
        "shell",
        "-c",
        _PUBLISH_TOGETHER.replace("SURFACES", repr(["together-a", POISON, "together-b"])),
    )
    first, poison, last = ids = json.loads(out.strip().splitlines()[-1])
    ledger = private.ledger()
    assert ledger.wait_finished([first, last], timeout=120) < float("inf")
    assert ledger.wait_finished([poison], timeout=240) < float("inf")
    records = ledger.records(ids)
    assert [records[i][0] for i in (first, last)] == ["ok", "ok"], records
    status, attempts, error = records[poison]
    assert status == "error" and error["details"]["dead_lettered"], records[poison]
    assert attempts == MAX_ATTEMPTS + 1  # its own crashes only
    assert ledger.side_effects([first, last]) == {first: 1, last: 1}
    assert _worker_logs(stack).count(f"{SPLIT} 3 records") > splits_before  # it was split
    print(f"[reliability] poison in a message of three [{stack.queue_type}]: first and last ok")


def test_workers_killed_at_random_moments(stack, private, token):
    """SIGKILL of a worker process at random moments, KILLS times, while writing actions
    run: every accepted action ends exactly once, no side effect twice."""
    load, ledger, timing = Load(stack, token), private.ledger(), {}
    kills = max(10, scale(10))

    def fault():
        for _ in range(kills):
            time.sleep(random.uniform(0.3, 1.2))
            stack.kill_worker()
        timing["last_kill"] = time.monotonic()
        sent_so_far = [i for i, s in list(load.answers.items()) if s in (200, 202)]
        records = ledger.records(sent_so_far)
        timing["backlog"] = sum(1 for r in records.values() if r[0] not in ("ok", "error"))

    restarts_before = stack.restarts
    splits_before = _worker_logs(stack).count(SPLIT)
    load.run(scale(600), during=fault)
    ledger.wait_finished(load.accepted, timeout=240)
    recovered = time.monotonic() - timing["last_kill"]
    figures = tally(
        f"worker SIGKILL x{kills} [{stack.queue_type}]",
        load,
        ledger,
        recovery_s=recovered,
        extra=f" worker_restarts={stack.restarts - restarts_before}"
        f" unfinished_at_last_kill={timing['backlog']}"
        f" messages_split={_worker_logs(stack).count(SPLIT) - splits_before}",
    )
    _assert_promise(figures)
    assert figures["accepted"] == figures["sent"]


def test_broker_stopped_and_started_during_load(stack, private, token):
    """RabbitMQ stops serving for a while under load: every accepted action completes, the
    channel serves again within SERVE_WITHIN_S of the broker's return."""
    load, ledger, timing = Load(stack, token), private.ledger(), {}

    def fault():
        time.sleep(1.5)
        private.mq.stop_app()
        time.sleep(5)
        private.mq.start_app()
        back = time.monotonic()
        timing["serve_s"] = stack.probe(token, timeout=120)
        timing["back"] = back

    load.run(scale(300), during=fault)
    drained = ledger.wait_finished(load.accepted, timeout=240)
    drained_after_back = time.monotonic() - timing["back"]
    figures = tally(
        f"broker stop/start [{stack.queue_type}]",
        load,
        ledger,
        recovery_s=timing["serve_s"],
        extra=f" drained_s={drained:.1f} all_done_after_back_s={drained_after_back:.1f}",
    )
    _assert_promise(figures)
    assert timing["serve_s"] <= SERVE_WITHIN_S
