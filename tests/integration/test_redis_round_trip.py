"""The hot path's Redis calls (rate limits, fairness slots) on a thread's own connection
(actions.connections.redis_round_trip): against the real Redis, what a kept connection
must survive."""

import os

import pytest
import redis
from django.conf import settings

from actions import connections

URL = settings.SWITCHBOARD["REDIS_URL"]
KEY = "switchboard-test:round-trip"


def trip(*commands):
    return connections.redis_round_trip(URL, socket_timeout=0.5, commands=commands)


@pytest.fixture(autouse=True)
def clean():
    client = redis.Redis.from_url(URL)
    client.delete(KEY)
    yield client
    client.delete(KEY)


def test_commands_go_in_one_round_trip_and_answer_in_order():
    assert trip(("ZADD", KEY, 1, "a"), ("ZADD", KEY, 2, "b"), ("ZCARD", KEY)) == [1, 1, 2]
    assert trip(("ZREM", KEY, "a", "zz")) == [1]
    [own] = trip(("CLIENT", "ID"))
    assert trip(("CLIENT", "ID")) == [own]  # the same connection, kept


def test_an_error_reply_raises_and_the_next_call_reads_its_own_replies(clean):
    clean.set(KEY, "not a sorted set")
    with pytest.raises(redis.ResponseError):
        trip(("ZADD", KEY, 1, "a"), ("GET", KEY))
    # The unread reply of the failed batch must not be taken for this one's.
    assert trip(("ECHO", "mine")) == [b"mine"]


def test_a_connection_the_server_dropped_is_replaced(clean):
    [own] = trip(("CLIENT", "ID"))
    clean.execute_command("CLIENT", "KILL", "ID", own)
    with pytest.raises(redis.ConnectionError):
        trip(("PING",))
    [fresh] = trip(("CLIENT", "ID"))
    assert fresh != own


def test_a_forked_child_does_not_share_its_parents_socket():
    [parent] = trip(("CLIENT", "ID"))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own connection, then report its id
        try:
            [child] = trip(("CLIENT", "ID"))
            os.write(write, str(child).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = int(os.read(read, 64) or 0)
    os.close(read)
    assert child and child != parent
    assert trip(("CLIENT", "ID")) == [parent]  # the parent's connection is untouched


def test_a_script_redis_forgot_is_loaded_again(clean):
    source = "return redis.call('INCR', KEYS[1]) + tonumber(ARGV[1])"
    clean.script_flush()
    calls = [((KEY,), (10,)), ((KEY,), (20,))]
    assert connections.run_scripts(URL, socket_timeout=0.5, source=source, calls=calls) == [11, 22]
    then = [("GET", KEY)]
    replies = connections.run_scripts(
        URL, socket_timeout=0.5, source=source, calls=calls[:1], then=then
    )
    assert replies == [13]  # the `then` commands ran (INCR made 3) and are not returned
    assert clean.get(KEY) == b"3"
