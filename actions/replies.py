"""Replies to AMQP clients: the response envelope, as plain JSON, to their reply queue."""

import json
import logging
import re

from django.conf import settings
from kombu import Connection
from kombu.pools import producers

log = logging.getLogger(__name__)
# Replies go only to queues the broker named for a client: an exclusive server-named queue
# or direct reply-to. Any other name (a service queue, another client's queue by a
# guessable name) would let a client have the server write where it may not.
_REPLY_QUEUE = re.compile(
    r"amq\.gen-[A-Za-z0-9_-]{1,64}|amq\.rabbitmq\.reply-to(\.[A-Za-z0-9+/=_.-]{1,512})?"
)


def is_reply_queue(name: str) -> bool:
    return isinstance(name, str) and _REPLY_QUEUE.fullmatch(name) is not None


_connections: dict[str, Connection] = {}


def _connection(url: str) -> Connection:
    # Replies need no publisher confirm: the record holds the answer whatever happens to
    # the reply, so a lost one costs the client a poll, never the result.
    if url not in _connections:
        _connections[url] = Connection(url, connect_timeout=5)
    return _connections[url]


def broker_url(channel: str) -> str:
    """The broker login of a channel's services (docs/operations.md)."""
    return settings.BROKER_URL_ADMIN if channel == "admin" else settings.BROKER_URL_USER


def reply(*, reply_to: str, correlation_id: str | None, envelope: dict, channel: str) -> None:
    """Publish `envelope` to a client's reply queue with `channel`'s broker login."""
    if not is_reply_queue(reply_to):
        log.warning("refused to reply to a queue the broker did not name for a client")
        return
    body = json.dumps(envelope, separators=(",", ":"))
    try:
        with producers[_connection(broker_url(channel))].acquire(block=True, timeout=5) as producer:
            producer.publish(
                body,
                exchange="",
                routing_key=reply_to,
                correlation_id=correlation_id,
                content_type="application/json",
                content_encoding="utf-8",
                serializer=None,
                delivery_mode=1,  # reply queues are exclusive: they die with their client
                retry=True,
                retry_policy={"max_retries": 3, "interval_start": 0.1},
            )
    except Exception:
        # The client's reply queue may be gone; the record still holds the answer.
        log.warning("reply to %s failed", reply_to, exc_info=True)
