"""Dead-lettering: a record's task message that gave up is parked in its channel's
dead-letter queue (`switchboard.<channel>.dead`, behind the fanout exchange
`switchboard.<channel>.dlx`, config/queues.py) for an operator, instead of going round
the queue forever (docs/reliability.md).

On quorum queues the broker also dead-letters a message into the same exchange once it was
delivered `x-delivery-limit` times; on classic queues (no such limit) the record's attempt
counter is the bound, and the executor parks the message itself. Either way the record
answers `internal_error` and the central error log has the entry.
"""

import logging
from typing import Any

from kombu import Connection

from actions.delivery.outbox import Pending, task_message
from actions.delivery.replies import broker_url
from actions.models import ActionRecord
from config.queues import DEAD_LETTER_QUEUES, action_queue

log = logging.getLogger(__name__)


def declare(amqp_channel: Any, channel: str) -> None:
    """The channel's dead-letter exchange and queue (idempotent)."""
    DEAD_LETTER_QUEUES[channel](amqp_channel).declare()


def park(*, channel: str, schema: str, record: ActionRecord, reason: str) -> bool:
    """Publish the record's task message to the channel's dead-letter exchange, with a
    publisher confirm. False (and a log line) if the broker could not take it: the record
    holds the outcome and the error log the entry either way."""
    message = task_message(Pending.of(record, schema=schema))
    message.properties["application_headers"].update(
        {
            "x-switchboard-reason": reason,
            "x-switchboard-attempts": record.attempts,
            "x-switchboard-record": str(record.id),
        }
    )
    try:
        with Connection(broker_url(channel), connect_timeout=5) as conn:
            amqp_channel: Any = conn.default_channel
            declare(amqp_channel, channel)
            amqp_channel.basic_publish_confirm(
                message,
                exchange=DEAD_LETTER_QUEUES[channel].exchange.name,
                routing_key=action_queue(channel),
                confirm_timeout=5,
            )
        return True
    except Exception:
        log.warning("could not park record %s in the dead-letter queue", record.id, exc_info=True)
        return False
