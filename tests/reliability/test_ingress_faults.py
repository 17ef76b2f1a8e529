"""The AMQP ingress's lanes (actions/edge/ingress.py) through a broker outage: RabbitMQ
stops serving while an ingress process sorts a flood into lanes and handles it, then
comes back; every message published is taken in once the broker is back (a record per
envelope id: a message handed over twice is the same record), none is lost on the way
through the lanes.

On the private RabbitMQ and PostgreSQL of the fault tests (never the shared ones), with
an ingress process of its own on a private ingress queue (fed through the exchange that
queue is bound to, with the action's routing key, as a client would publish)."""

import json
import subprocess
import sys
import time
import uuid

import pika

from config.queues import INGRESS_LANES, ingress_lane_queue
from tests.bench.spine import ACTION, cta_envelope
from tests.ingress_queues import delete_ingress
from tests.reliability.stack import ROOT, scale

_INGRESS = (
    "import sys, django; django.setup(); from actions.edge.ingress import IngressProcess; "
    "IngressProcess('user', threads=4, name=sys.argv[1], triage_above=20).run()"
)


def _publish(url: str, queue: str, token: str, count: int) -> list[str]:
    """`count` persistent actions to the private ingress queue's exchange; their ids."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        ids = []
        for _ in range(count):
            env = cta_envelope("ingress-fault")
            ids.append(env["id"])
            channel.basic_publish(
                queue,
                ACTION,
                json.dumps(env),
                pika.BasicProperties(
                    delivery_mode=pika.DeliveryMode.Persistent,
                    headers={"authorization": f"Bearer {token}"},
                ),
            )
        return ids
    finally:
        connection.close()


def _waiting(url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        names = [queue] + [ingress_lane_queue(queue, lane) for lane in range(INGRESS_LANES)]
        return sum(channel.queue_declare(n, passive=True).method.message_count for n in names)
    finally:
        connection.close()


def test_ingress_lanes_through_a_broker_outage(private, token):
    from actions.edge import ingress

    queue = f"switchboard.ingress.user.fault{uuid.uuid4().hex[:8]}"
    url = private.admin_url
    connection = pika.BlockingConnection(pika.URLParameters(url))
    ingress.declare(connection.channel(), "user", queue)
    connection.close()
    ids = _publish(url, queue, token, scale(3000))
    ledger = private.ledger()
    env = {
        **private.env,
        # No workers here: without slots the records are published at once, none held back
        # (else the backpressure would pace the ingress to workers that do not run).
        "SWITCHBOARD_INFLIGHT_CAP_USER": "0",
    }
    log = open(private.tmp / "ingress-fault.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-c", _INGRESS, queue], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while not ledger.records(ids[:50]) and time.monotonic() < deadline:
            time.sleep(0.05)  # until it has started taking the flood in
        taken_before = len(ledger.records(ids))
        time.sleep(0.3)  # into the sorting
        private.mq.stop_app()
        time.sleep(3)
        private.mq.start_app()
        back = time.monotonic()
        deadline = back + 180
        while time.monotonic() < deadline:
            if len(ledger.records(ids)) == len(ids) and _waiting(url, queue) == 0:
                break
            time.sleep(0.5)
        drained_s = time.monotonic() - back
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        try:
            delete_ingress(url, queue)
        except Exception:  # the broker may be what failed
            pass
    sorted_ = (private.tmp / "ingress-fault.log").read_text().count("sorting them into lanes")
    records = ledger.records(ids)
    missing = [i for i in ids if i not in records]
    print(
        f"\n[faults] ingress lanes through a broker outage: sent={len(ids)} "
        f"taken_in_before_stop={taken_before} taken_in={len(records)} lost={len(missing)} "
        f"drained_after_back_s={drained_s:.1f} sorting_started={sorted_}"
    )
    assert not missing, f"{len(missing)} published messages never taken in"
    assert taken_before < len(ids), "the outage came after the flood was in: nothing tested"
    assert sorted_, "the ingress never sorted into lanes"
