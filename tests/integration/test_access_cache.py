"""The access cache (tenants/access_cache.py): rows served from the process while
PostgreSQL's notifications report every change, and never otherwise.

Each test starts the listener in this process (the web and the ingress start it in
theirs), changes one of the five tables the access statement reads with a real commit,
and checks that the next answer is the new one."""

import datetime
import json
import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions.contract.registry import Channel
from actions.edge.pipeline import Ingress, submit
from tenants import access_cache
from tenants.models import Membership, RevokedToken, SuperAdminGrant, Tenant, User
from tenants.services import access_resolve
from tenants.tokens import token_decode, token_issue_pair
from tests.conftest import envelope


@pytest.fixture
def listening():
    access_cache.start()
    assert access_cache.wait_listening(), "the listener did not connect"
    yield
    access_cache.stop()


def _queries(**kwargs) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as captured:
        access = access_resolve(**kwargs)
    statements = [q for q in captured.captured_queries if "access_resolve" in q["sql"]]
    return access, len(statements)


def _until(predicate, timeout: float = 5.0) -> bool:
    """The notification comes on the listener's connection, about a millisecond after
    the commit: wait for its effect, bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def _acme(user: User, jti: str):
    return access_resolve(user_id=user.pk, slug="acme", token_id=jti)


def _member_token(email: str = "member@acme.test") -> tuple[User, str]:
    user = User.objects.get(email=email)
    claims = token_decode(token_issue_pair(user=user)["access_token"])
    return user, claims["jti"]


def test_a_second_answer_comes_from_the_cache_and_a_role_change_empties_it(listening):
    user, jti = _member_token()
    first, asked = _queries(user_id=user.pk, slug="acme", token_id=jti)
    assert asked == 1 and "member" in first.roles
    again, asked = _queries(user_id=user.pk, slug="acme", token_id=jti)
    assert asked == 0 and again.roles == first.roles
    assert again.tenant is not first.tenant  # a Tenant of its own each time

    membership = Membership.objects.get(user=user, tenant__schema_name="acme")
    Membership.objects.filter(pk=membership.pk).update(role="owner")
    try:
        assert _until(lambda: "owner" in _acme(user, jti).roles)
    finally:
        Membership.objects.filter(pk=membership.pk).update(role=membership.role)
    assert _until(lambda: "owner" not in _acme(user, jti).roles)


def test_a_removed_membership_is_heard(listening):
    user, jti = _member_token()
    membership = Membership.objects.get(user=user, tenant__schema_name="acme")
    _acme(user, jti)
    Membership.objects.filter(pk=membership.pk).delete()
    try:
        assert _until(lambda: "member" not in _acme(user, jti).roles)
    finally:
        membership.save(force_insert=True)


def test_a_deactivated_user_and_a_revoked_token_are_heard(listening):
    user, jti = _member_token()
    assert _acme(user, jti).user["revoked"] is False
    RevokedToken.objects.create(jti=jti, expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert _until(lambda: _acme(user, jti).user["revoked"])

    User.objects.filter(pk=user.pk).update(is_active=False)
    try:
        assert _until(lambda: _acme(user, jti).user is None)
    finally:
        User.objects.filter(pk=user.pk).update(is_active=True)


def test_a_changed_tenant_is_heard(listening):
    user, jti = _member_token()
    tenant = Tenant.objects.get(schema_name="acme")
    before = _acme(user, jti).tenant.name
    Tenant.objects.filter(pk=tenant.pk).update(name=before + " (renamed)")
    try:
        assert _until(lambda: _acme(user, jti).tenant.name == before + " (renamed)")
    finally:
        Tenant.objects.filter(pk=tenant.pk).update(name=before)


def test_rows_under_a_super_admin_grant_and_unknown_names_are_never_cached(listening):
    dev, jti = _member_token("dev@switchboard.test")
    tenant = Tenant.objects.get(schema_name="beta")
    now = timezone.now()
    grant = SuperAdminGrant.objects.create(
        user=dev, tenant=tenant, reason="test", granted_at=now,
        expires_at=now + datetime.timedelta(minutes=5),
    )  # fmt: skip
    try:
        promoted = access_resolve(user_id=dev.pk, slug="beta", token_id=jti)
        assert "super_admin" in promoted.roles
        _, asked = _queries(user_id=dev.pk, slug="beta", token_id=jti)
        assert asked == 1  # it lapses with the clock, which notifies nobody
    finally:
        grant.delete()

    user, jti = _member_token()
    invented = "nosuch" + uuid.uuid4().hex[:8]
    for _ in range(2):
        access, asked = _queries(user_id=user.pk, slug=invented, token_id=jti)
        assert access.tenant is None and asked == 1


def test_nothing_is_served_while_the_listener_is_down():
    user, jti = _member_token()
    access_cache.stop()
    for _ in range(2):
        _, asked = _queries(user_id=user.pk, slug="acme", token_id=jti)
        assert asked == 1


def test_a_row_read_while_a_change_was_heard_is_not_kept(listening):
    key = ("k", "acme", "j")
    row, generation = access_cache.lookup(key)
    assert row is None and generation is not None
    access_cache.invalidate()  # a notification arrives while the row is being read
    access_cache.store(key, ["stale"], generation)
    assert access_cache.lookup(key)[0] is None
    row, generation = access_cache.lookup(key)
    access_cache.store(key, ["fresh"], generation)
    assert access_cache.lookup(key)[0] == ["fresh"]


def test_the_edge_asks_once_per_token_and_tenant_while_listening(listening, tokens):
    ingress = Ingress(
        channel=Channel.USER,
        body=b"",
        authorization=f"Bearer {tokens['member@acme.test']}",
    )
    cta = {"surface": "web", "cta_id": "signup", "event": "click"}
    counts = []
    for _ in range(2):
        ingress.body = json.dumps(envelope("analytics.cta.record", cta)).encode()
        with CaptureQueriesContext(connection) as captured:
            assert submit(ingress).envelope["status"] == "pending"
        counts.append(sum("access_resolve" in q["sql"] for q in captured.captured_queries))
    assert counts[1] == 0, counts  # the record's INSERT only


def test_a_lost_listener_connection_stops_the_cache_until_it_listens_again(listening):
    user, jti = _member_token()
    _acme(user, jti)
    assert _queries(user_id=user.pk, slug="acme", token_id=jti)[1] == 0
    with connection.cursor() as cursor:  # as a PostgreSQL restart would, to this one only
        cursor.execute("SELECT pg_terminate_backend(%s)", [access_cache.listener_pid()])
    assert _until(lambda: not access_cache.listening())
    assert _queries(user_id=user.pk, slug="acme", token_id=jti)[1] == 1  # nothing served
    assert access_cache.wait_listening(timeout=10), "the listener did not reconnect"
    _acme(user, jti)
    assert _queries(user_id=user.pk, slug="acme", token_id=jti)[1] == 0


def test_a_listener_that_stopped_answering_serves_nothing(listening, monkeypatch):
    user, jti = _member_token()
    _acme(user, jti)
    assert _queries(user_id=user.pk, slug="acme", token_id=jti)[1] == 0
    # Its connection hangs (a partition: nothing fails, nothing answers): past the bound,
    # though still "listening", the cache answers nothing.
    monkeypatch.setattr(access_cache, "_FRESH_S", -1.0)  # its last answer: too long ago
    assert _queries(user_id=user.pk, slug="acme", token_id=jti)[1] == 1
    assert access_cache.listening()


def test_the_web_process_starts_the_listener_with_its_asgi_lifespan():
    """uvicorn sends the lifespan; config.asgi answers it and starts the listener (an
    in-process call of the application, as the other tests make, does not)."""
    import asyncio

    from actions.connections import tenant_connections
    from actions.edge.gateway import EDGE_THREADS
    from config.asgi import application

    access_cache.stop()
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    answered: list[str] = []

    async def receive():
        return inbox.pop(0)

    async def send(message):
        answered.append(message["type"])

    sizes: list[int] = []
    real_configure = tenant_connections.configure

    def configure(size):
        sizes.append(size)
        real_configure(size)

    tenant_connections.configure = configure  # type: ignore[method-assign]
    try:
        asyncio.run(application({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
        assert answered == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        assert access_cache.wait_listening(), "the lifespan did not start the listener"
        # One database connection per edge thread, by tenant; closed again at shutdown.
        assert sizes == [EDGE_THREADS] and tenant_connections.size == 0
    finally:
        del tenant_connections.configure
        access_cache.stop()
