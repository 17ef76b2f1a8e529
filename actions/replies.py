"""Replies to AMQP clients: the response envelope, as plain JSON, to their reply queue."""

import json
import logging

log = logging.getLogger(__name__)


def reply(*, reply_to: str, correlation_id: str | None, envelope: dict) -> None:
    from config.celery import app

    body = json.dumps(envelope, separators=(",", ":"))
    try:
        with app.producer_pool.acquire(block=True, timeout=5) as producer:
            producer.publish(
                body,
                exchange="",
                routing_key=reply_to,
                correlation_id=correlation_id,
                content_type="application/json",
                content_encoding="utf-8",
                serializer=None,
                delivery_mode=2,
                retry=True,
                retry_policy={"max_retries": 3, "interval_start": 0.1},
            )
    except Exception:
        # The client's reply queue may be gone; the record still holds the answer.
        log.warning("reply to %s failed", reply_to, exc_info=True)
