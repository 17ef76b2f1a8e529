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
    def __init__(self, url: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.reply_queue = self.channel.queue_declare("", exclusive=True).method.queue

    def call(
        self,
        env: dict,
        *,
        exchange: str = "switchboard.ingress.user",
        token: str | None = None,
        timeout: float = 15,
        body: bytes | None = None,
    ) -> dict:
        correlation_id = uuid.uuid4().hex
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.channel.basic_publish(
            exchange=exchange,
            routing_key=env.get("action", "x"),
            body=body if body is not None else json.dumps(env).encode(),
            properties=pika.BasicProperties(
                reply_to=self.reply_queue,
                correlation_id=correlation_id,
                content_type="application/json",
                headers=headers,
                delivery_mode=2,
            ),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, props, reply = self.channel.basic_get(self.reply_queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.02)
                continue
            if props.correlation_id == correlation_id:
                return assert_envelope(json.loads(reply))
        raise AssertionError("no reply within the timeout")

    def close(self):
        self.connection.close()


@pytest.fixture
def amqp():
    client = AmqpClient(settings.BROKER_URL_USER)
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


def test_admin_ingress_runs_admin_actions(tokens):
    client = AmqpClient(settings.BROKER_URL_ADMIN)
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
