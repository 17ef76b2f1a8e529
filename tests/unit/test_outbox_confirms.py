"""Publisher confirms of a batch are counted right however the broker acknowledges them:
one by one, many at once (`multiple`), or both mixed and out of order."""

import pytest

from actions.delivery.outbox import Confirms


class Channel:
    def __init__(self, last_tag=0):
        self.events: dict = {}
        if last_tag:
            self._confirm_tag = last_tag


def confirms(last_tag=0) -> tuple[Confirms, Channel]:
    channel = Channel(last_tag)
    return Confirms(channel), channel


def ack(channel, tag, multiple=False):
    for callback in channel.events["basic_ack"]:
        callback(tag, multiple)


def test_single_and_multiple_acks_mixed_out_of_order():
    counted, channel = confirms()
    ack(channel, 5)
    ack(channel, 3, multiple=True)
    assert counted.unconfirmed(5) == 1  # tag 4
    ack(channel, 4)
    assert counted.unconfirmed(5) == 0


def test_a_batch_after_an_earlier_one_counts_from_its_own_first_tag():
    counted, channel = confirms(last_tag=10)  # tags 11.. belong to this batch
    ack(channel, 12, multiple=True)
    assert counted.unconfirmed(3) == 1
    ack(channel, 13)
    assert counted.unconfirmed(3) == 0


def test_waiting_gives_up_at_its_deadline():
    counted, channel = confirms()

    class Connection:
        def drain_events(self, timeout):
            pass  # the broker says nothing

    with pytest.raises(TimeoutError):
        counted.wait(2, Connection(), timeout=0.05)
