"""Replies to AMQP clients: the response envelope, as plain JSON, to their reply queue."""

import json
import logging
import re
import threading

import amqp
from django.conf import settings
from kombu import Connection

log = logging.getLogger(__name__)
# Replies go only to queues the broker named for a client: an exclusive server-named queue
# or direct reply-to. Any other name (a service queue, another client's queue by a
# guessable name) would let a client have the server write where it may not.
_REPLY_QUEUE = re.compile(
    r"amq\.gen-[A-Za-z0-9_-]{1,64}|amq\.rabbitmq\.reply-to(\.[A-Za-z0-9+/=_.-]{1,512})?"
)


# What the broker makes of `reply_to = amq.rabbitmq.reply-to` (direct reply-to): the
# sending channel's address with a random per-channel key; only that channel receives it.
_DIRECT_REPLY_TO = re.compile(
    r"amq\.rabbitmq\.reply-to\.[A-Za-z0-9+/=_-]{1,256}\.[A-Za-z0-9+/=_-]{1,256}"
)


def is_reply_queue(name: str) -> bool:
    return isinstance(name, str) and _REPLY_QUEUE.fullmatch(name) is not None


def is_direct_reply_to(name: str | None) -> bool:
    """An outside AMQP client's only reply address: bound by the broker to the channel that
    published the message (docs/message-api.md#amqp). An `amq.gen-*` queue may be anyone's:
    the name says nothing of who declared it, and every client shares one broker login."""
    return isinstance(name, str) and _DIRECT_REPLY_TO.fullmatch(name) is not None


# One broker connection per thread and login: replies are published from many threads
# (worker threads, ingress threads), and a connection is not to be shared between them.
_local = threading.local()


def _channel(url: str):
    channels = _local.__dict__.setdefault("channels", {})
    if url not in channels:
        connection = Connection(url, connect_timeout=5)
        connection.ensure_connection(max_retries=2)
        channels[url] = (connection, connection.default_channel)
    return channels[url][1]


def _drop(url: str) -> None:
    connection, _ = _local.__dict__.get("channels", {}).pop(url, (None, None))
    if connection is not None:
        try:
            connection.close()
        except Exception:
            pass


def broker_url(channel: str) -> str:
    """The broker login of a channel's services (docs/operations.md)."""
    return settings.BROKER_URL_ADMIN if channel == "admin" else settings.BROKER_URL_USER


def reply(*, reply_to: str, correlation_id: str | None, envelope: dict, channel: str) -> None:
    """Publish `envelope` to a client's reply queue with `channel`'s broker login.

    No publisher confirm: the record holds the answer whatever happens to the reply, so
    a lost one costs the client a poll, never the result. Transient: reply queues are
    exclusive and die with their client."""
    if not is_reply_queue(reply_to):
        log.warning("refused to reply to a queue the broker did not name for a client")
        return
    message = amqp.Message(
        json.dumps(envelope, separators=(",", ":")),
        content_type="application/json",
        content_encoding="utf-8",
        correlation_id=correlation_id,
        delivery_mode=1,
    )
    url = broker_url(channel)
    for attempt in (1, 2):  # a connection found broken is replaced once
        try:
            _channel(url).basic_publish(message, exchange="", routing_key=reply_to)
            return
        except Exception:
            _drop(url)
            if attempt == 2:
                # The broker is away; the record still holds the answer.
                log.warning("reply to %s failed", reply_to, exc_info=True)
