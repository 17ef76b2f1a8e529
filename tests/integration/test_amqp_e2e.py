"""Plain JSON over AMQP with a pika client (no Celery on the client side)."""

import json
import time
import uuid

import pika
import pytest
from django.conf import settings

from tests.conftest import DEMO_PASSWORD, envelope
from tests.envelopes import assert_envelope

pytestmark = pytest.mark.usefixtures("workers")


class AmqpClient:
    """Replies come by direct reply-to, the only reply address the ingress answers."""

    def __init__(self, url: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.reply_queue = "amq.rabbitmq.reply-to"
        self.replies: list = []
        self.channel.basic_consume(
            self.reply_queue, lambda _c, _m, props, body: self.replies.append((props, body)),
            auto_ack=True,
        )  # fmt: skip

    def call(
        self,
        env: dict,
        *,
        exchange: str = "switchboard.ingress.user",
        token: str | None = None,
        timeout: float = 15,
        body: bytes | None = None,
        routing_key: str | None = None,
    ) -> dict:
        correlation_id = self.publish(
            env, exchange=exchange, token=token, body=body, routing_key=routing_key
        )
        answer = self.reply_for(correlation_id, timeout=timeout)
        if answer is None:
            raise AssertionError("no reply within the timeout")
        return answer

    def publish(
        self,
        env: dict,
        *,
        exchange: str = "switchboard.ingress.user",
        token: str | None = None,
        body: bytes | None = None,
        routing_key: str | None = None,
    ) -> str:
        correlation_id = uuid.uuid4().hex
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.channel.basic_publish(
            exchange=exchange,
            routing_key=routing_key or env.get("action", "x"),
            body=body if body is not None else json.dumps(env).encode(),
            properties=pika.BasicProperties(
                reply_to=self.reply_queue,
                correlation_id=correlation_id,
                content_type="application/json",
                headers=headers,
                delivery_mode=2,
            ),
        )
        return correlation_id

    def reply_for(self, correlation_id: str, *, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for props, reply in list(self.replies):
                if props.correlation_id == correlation_id:
                    self.replies.remove((props, reply))
                    return assert_envelope(json.loads(reply))
            self.connection.process_data_events(time_limit=0.02)
        return None

    def close(self):
        self.connection.close()


@pytest.fixture
def amqp():
    client = AmqpClient(settings.BROKER_URL_CLIENT)  # what an outside client is given
    yield client
    client.close()


def test_login_then_a_dummy_over_amqp(amqp):
    login = amqp.call(
        envelope("auth.login", {"email": "owner@acme.test", "password": DEMO_PASSWORD})
    )
    assert login["status"] == "ok"
    token = login["result"]["access_token"]
    dummy = amqp.call(envelope("leads.create", {"name": "Ann"}), token=token)
    assert dummy["error"]["code"] == "not_implemented"
    assert dummy["error"]["message"] == "to be implemented"


def test_errors_at_the_edge_are_replied_at_once(amqp):
    reply = amqp.call({}, body=b"{not json")
    assert reply["error"]["code"] == "invalid_envelope"
    reply = amqp.call(envelope("leads.list"))
    assert reply["error"]["code"] == "unauthenticated"


def test_the_same_id_twice_over_amqp_runs_once(amqp, tokens):
    env = envelope("leads.list", {})
    first = amqp.call(env, token=tokens["member@acme.test"])
    second = amqp.call(env, token=tokens["member@acme.test"])
    assert first["meta"]["trace_id"] == second["meta"]["trace_id"]
    assert first["error"] == second["error"]


def test_the_envelopes_own_correlation_id_is_echoed_in_every_answer(amqp, tokens, client):
    """The envelope's `meta.correlation_id` comes back in the envelope (the AMQP property,
    which the client matched the reply by, is the property's): in the worker's reply as
    in a refusal at the edge, and in a poll of the record."""
    token = tokens["member@acme.test"]
    payload = {"surface": "home", "cta_id": "signup"}
    env = {**envelope("analytics.cta.record", payload), "meta": {"correlation_id": "web-42"}}
    done = amqp.call(env, token=token)
    assert done["status"] == "ok", done
    assert done["meta"]["correlation_id"] == "web-42"
    refused = amqp.call({**envelope("analytics.cta.record", {}), "meta": env["meta"]}, token=token)
    assert refused["error"]["code"] == "validation_error"
    assert refused["meta"]["correlation_id"] == "web-42"
    poll = client.get(
        f"/api/v1/actions/{env['id']}?tenant=acme", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert poll.json()["meta"]["correlation_id"] == "web-42"


def test_a_repeat_sent_while_its_action_runs_gets_the_answer_once_it_is_done(amqp, tokens):
    """The worker holds a running record's row until its outcome commits, so a repeat
    arriving then cannot add its reply target (the edge never waits for that lock): the
    ingress answers it once the record is finished. Here the test holds the row, as a
    worker running the action would, and then finishes the record itself."""
    from tests.records import RunningAsAWorker

    running = RunningAsAWorker(transport="amqp")
    try:
        # The repeat: answered later, not at once (the row is locked, the record running).
        correlation_id = amqp.publish(running.envelope, token=tokens["member@acme.test"])
        # Long enough for the ingress to take the repeat while the row is held (else it
        # would find the record finished and answer at once, proving nothing).
        assert amqp.reply_for(correlation_id, timeout=1.5) is None
    except BaseException:
        running.close()
        raise
    result = {"id": "42", "recorded_at": "2026-11-27T00:00:00Z"}
    running.finish(result)
    answer = amqp.reply_for(correlation_id, timeout=10)
    assert answer is not None, "the repeat got no answer"
    assert answer["status"] == "ok" and answer["result"] == result, answer
    assert amqp.reply_for(correlation_id, timeout=0.5) is None  # once


def test_admin_ingress_runs_admin_actions(tokens):
    client = AmqpClient(settings.BROKER_URL_OPERATOR)
    try:
        reply = client.call(
            envelope("tenants.get", {}),
            exchange="switchboard.ingress.admin",
            token=tokens["owner@acme.test"],
        )
        assert reply["status"] == "ok" and reply["result"]["slug"] == "acme", reply
        reply = client.call(
            envelope("leads.list", {}),
            exchange="switchboard.ingress.admin",
            token=tokens["owner@acme.test"],
        )
        assert reply["error"]["code"] == "unknown_action"
    finally:
        client.close()


@pytest.mark.parametrize("exchange", ["switchboard.admin", "switchboard.ingress.admin"])
def test_user_credentials_cannot_write_to_the_admin_exchanges(exchange):
    connection = pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL_USER))
    channel = connection.channel()
    channel.confirm_delivery()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        channel.basic_publish(exchange=exchange, routing_key="admin.acme.tenants.get", body=b"{}")
    assert refused.value.reply_code == 403  # ACCESS_REFUSED
    connection.close()


def _refused(url: str, attempt) -> int:
    """The AMQP reply code when `attempt(channel)` is refused by the broker (0 if allowed)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        attempt(connection.channel())
        return 0
    except pika.exceptions.ChannelClosedByBroker as refused:
        return refused.reply_code
    finally:
        if connection.is_open:
            connection.close()


def _bind_private_queue(exchange: str):
    def attempt(channel):
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, exchange, routing_key="#")

    return attempt


@pytest.mark.parametrize(
    "exchange",
    [
        "switchboard.ingress.user",
        "switchboard.ingress.admin",
        "switchboard.user",
        "switchboard.admin",
    ],
)
def test_outside_clients_cannot_listen_in_on_anyone_elses_messages(exchange):
    for url in (settings.BROKER_URL_CLIENT, settings.BROKER_URL_OPERATOR):
        assert _refused(url, _bind_private_queue(exchange)) == 403


@pytest.mark.parametrize(
    "queue", ["switchboard.ingress.user", "switchboard.user.actions", "switchboard.admin.actions"]
)
def test_outside_clients_cannot_consume_the_service_queues(queue):
    def consume(channel):
        channel.basic_get(queue)

    assert _refused(settings.BROKER_URL_CLIENT, consume) == 403


def test_the_client_login_cannot_publish_admin_messages():
    def publish(channel):
        channel.confirm_delivery()
        channel.basic_publish("switchboard.ingress.admin", "tenants.get", b"{}")

    assert _refused(settings.BROKER_URL_CLIENT, publish) == 403


def test_the_user_channel_login_cannot_read_the_admin_channel():
    assert _refused(settings.BROKER_URL_USER, _bind_private_queue("switchboard.admin")) == 403

    def consume(channel):
        channel.basic_get("switchboard.admin.actions")

    assert _refused(settings.BROKER_URL_USER, consume) == 403


def test_an_oversize_message_is_refused_over_amqp_too(amqp, tokens):
    env = envelope("leads.list", {"filler": "x" * 300_000})
    reply = amqp.call(env, token=tokens["member@acme.test"])
    assert reply["error"]["code"] == "invalid_envelope"
    assert reply["error"]["details"]["limit_bytes"] == 256 * 1024


def test_the_routing_key_must_name_the_action(amqp, tokens):
    env = envelope("leads.create", {"name": "Ann"})
    reply = amqp.call(env, token=tokens["member@acme.test"], routing_key="auth.me")
    assert reply["error"]["code"] == "invalid_envelope"
    assert reply["error"]["details"]["path"] == "routing_key"


@pytest.mark.parametrize("target", ["switchboard.admin.actions", "switchboard.user.actions"])
def test_a_reply_to_that_is_not_a_broker_named_reply_queue_is_refused(tokens, target):
    from actions.contract.registry import Channel
    from actions.delivery.replies import is_reply_queue
    from actions.edge.pipeline import Ingress, submit

    outcome = submit(
        Ingress(
            channel=Channel.USER,
            body=envelope("leads.list", {}),
            authorization=f"Bearer {tokens['member@acme.test']}",
            transport="amqp",
            reply_to=target,
        )
    )
    assert outcome.envelope["error"]["code"] == "invalid_envelope"
    assert outcome.envelope["error"]["details"]["path"] == "reply_to"
    assert outcome.record is None
    assert not is_reply_queue(target)
    assert is_reply_queue("amq.gen-JzTY20BRgKO-HjmUJj0wLg")
    assert is_reply_queue("amq.rabbitmq.reply-to.g1h2AA5yZXBseUAyNjk1NjUzMgAAAAAAAAAx.Qtcd")


def test_a_message_nested_past_the_parsers_limit_does_not_stop_the_worker(amqp, tokens):
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    body = json.dumps(envelope("leads.create")).replace('"payload": {}', f'"payload": {deep}')
    reply = amqp.call(
        {"action": "leads.create"}, body=body.encode(), token=tokens["member@acme.test"]
    )
    assert reply["error"]["code"] == "invalid_envelope"
    # The ingress consumer is still there: the next message is answered.
    after = amqp.call(envelope("leads.list", {}), token=tokens["member@acme.test"])
    assert after["error"]["code"] == "not_implemented"
