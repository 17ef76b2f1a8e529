"""The hot path's Redis calls (rate limits, fairness slots) on a thread's own connection
(actions.connections.redis_round_trip): against the real Redis, what a kept connection
must survive."""

import os
import time
import traceback
import uuid

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
    client.delete(KEY, KEY + ":then")
    yield client
    client.delete(KEY, KEY + ":then")
    client.close()


def test_commands_go_in_one_round_trip_and_answer_in_order(monkeypatch):
    conn = connections._own_connection(URL, 0.5)
    sent = []
    real = conn.send_packed_command

    def counting(command, *args, **kwargs):
        sent.append(command)
        return real(command, *args, **kwargs)

    monkeypatch.setattr(conn, "send_packed_command", counting)
    assert trip(("ZADD", KEY, 1, "a"), ("ZADD", KEY, 2, "b"), ("ZCARD", KEY)) == [1, 1, 2]
    assert len(sent) == 1  # one write for the three commands
    assert trip(("ZREM", KEY, "a", "zz")) == [1]
    [own] = trip(("CLIENT", "ID"))
    assert trip(("CLIENT", "ID")) == [own]  # the same connection, kept


def test_an_error_reply_raises_and_the_next_call_reads_its_own_replies(clean):
    clean.set(KEY, "not a sorted set")
    with pytest.raises(redis.ResponseError):
        trip(("ZADD", KEY, 1, "a"), ("GET", KEY))
    # The unread reply of the failed batch must not be taken for this one's.
    assert trip(("ECHO", "mine")) == [b"mine"]


def test_a_connection_the_server_dropped_is_replaced_before_it_is_used(clean):
    """As after a Redis restart: the kept connection is found closed and replaced, so the
    call succeeds (a failed call would switch the rate limits off for a while)."""
    [own] = trip(("CLIENT", "ID"))
    assert clean.execute_command("CLIENT", "KILL", "ID", own) == 1
    time.sleep(0.05)  # the close reaches this side of the socket
    [fresh] = trip(("CLIENT", "ID"))
    assert fresh != own
    assert trip(("PING",)) == [b"PONG"]


def test_a_forked_child_does_not_share_its_parents_socket():
    [parent] = trip(("CLIENT", "ID"))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own connection, then report its id (or what failed)
        try:
            [child] = trip(("CLIENT", "ID"))
            os.write(write, str(child).encode())
        except BaseException:
            os.write(write, traceback.format_exc().encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    answer = os.read(read, 65536).decode()
    os.close(read)
    assert answer.isdigit(), answer
    assert int(answer) != parent
    assert trip(("CLIENT", "ID")) == [parent]  # the parent's connection is untouched


def test_a_script_redis_does_not_know_is_loaded_and_run(clean):
    # A script of its own (a fresh comment): Redis cannot know it yet.
    source = f"-- {uuid.uuid4()}\nreturn redis.call('INCR', KEYS[1]) + tonumber(ARGV[1])"
    assert not clean.script_exists(connections.script_sha(source))[0]
    calls = [((KEY,), (10,)), ((KEY,), (20,))]
    assert connections.run_scripts(URL, socket_timeout=0.5, source=source, calls=calls) == [11, 22]
    assert clean.get(KEY) == b"2"  # each ran once: the refused first attempt ran nothing
    then = [("SET", KEY + ":then", "done")]
    replies = connections.run_scripts(
        URL, socket_timeout=0.5, source=source, calls=calls[:1], then=then
    )
    assert replies == [13]  # the scripts' replies only
    assert clean.get(KEY + ":then") == b"done"  # the `then` commands ran, in the same trip


def test_the_process_id_kept_for_the_hot_path_follows_a_fork():
    assert connections.process_id() == os.getpid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, b"yes" if connections.process_id() == os.getpid() else b"no")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    answer = os.read(read, 16)
    os.close(read)
    assert answer == b"yes" and connections.process_id() == os.getpid() != pid
