"""Isolation: a member of beta gets nothing from acme through any user-channel action;
tenant context never leaks between tasks, also across threads and after an exception."""

import threading
import uuid

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from actions.connections import TenantConnections
from actions.contract.payloads import Empty, Result
from actions.contract.registry import Channel, Scope, action, registry
from actions.models import ActionRecord
from tenants.models import User
from tests.tenancy import run_inline, submit

USER_ACTIONS = [s for s in registry.all() if s.channel == Channel.USER and s.scope == Scope.TENANT]


def _records(schema: str) -> int:
    with schema_context(schema):
        return ActionRecord.objects.count()


@pytest.mark.parametrize("spec", USER_ACTIONS, ids=lambda s: s.name)
def test_a_member_of_beta_is_refused_every_user_action_on_acme(spec):
    intruder = User.objects.get(email="member@beta.test")
    before = _records("acme")
    outcome = submit(spec.name, {}, tenant="acme", user=intruder, admin=False)
    assert outcome.envelope["error"]["code"] == "forbidden", (spec.name, outcome.envelope)
    assert outcome.record is None and _records("acme") == before


def test_a_record_of_acme_is_not_readable_from_beta(client):
    owner = User.objects.get(email="member@acme.test")
    record = run_inline("auth.me", {}, schema="acme", user=owner)
    assert record.status == "ok"
    from tests.tenancy import bearer

    intruder = User.objects.get(email="member@beta.test")
    for tenant in ("acme", "beta"):
        answer = client.get(
            f"/api/v1/actions/{record.id}?tenant={tenant}",
            HTTP_AUTHORIZATION=bearer(intruder),
        )
        assert answer.status_code in (403, 404)
        assert "result" not in answer.json() or answer.json()["result"] is None


class Where(Result):
    where: str
    tenant: str


@pytest.fixture
def whereami():
    """A test-only action reporting the schema its handler really ran in."""
    name = f"tests.whereami_{uuid.uuid4().hex[:8]}"

    def handler(ctx, payload):
        if ctx.tenant == "acme" and ctx.message_id.endswith("0"):
            raise RuntimeError("boom")  # some of acme's actions fail
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            return Where(where=cursor.fetchone()[0], tenant=ctx.tenant)

    action(name, channel="user", summary="test", input=Empty, output=Where,
           roles=("member", "owner", "primary_owner"))(handler)  # fmt: skip
    yield name
    registry.remove(name, 1)


def test_after_a_failure_for_acme_the_next_task_runs_in_beta(whereami):
    acme_member = User.objects.get(email="member@acme.test")
    beta_member = User.objects.get(email="member@beta.test")
    with schema_context("acme"):
        failing = ActionRecord.objects.create(
            id=uuid.UUID(int=uuid.uuid4().int & ~0xF),  # ends in 0: the handler raises
            action=whereami, version=1, channel="user", transport="rest",
            actor_id=acme_member.pk, actor_email=acme_member.email, payload={},
            payload_hash="x", trace_id="t",
        )  # fmt: skip
    from actions.worker import executor

    assert (
        executor.execute(channel="user", schema="acme", record_id=str(failing.id), worker="w")
        == "error"
    )
    second = run_inline(whereami, {}, schema="beta", user=beta_member)
    assert second.status == "ok" and second.result == {"where": "beta", "tenant": "beta"}
    assert connection.schema_name == "public"  # restored after the task


@pytest.mark.parametrize("pooled", [False, True], ids=["own connections", "pooled by tenant"])
def test_thousands_of_actions_on_eight_threads_never_cross_schemas(whereami, pooled):
    """Each thread on its own connection (a prefork child, tests), and each unit of work on
    a connection of the process's pool, moved to its tenant's (a threads worker, the web,
    the ingress: actions.connections.TenantConnections), handed between threads."""
    tenant_pool = TenantConnections()
    tenant_pool.configure(8 if pooled else 0)
    members = {
        "acme": User.objects.get(email="member@acme.test"),
        "beta": User.objects.get(email="member@beta.test"),
    }
    per_thread, threads = 250, 8
    done: dict[str, list[str]] = {"acme": [], "beta": []}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            for i in range(per_thread):
                slug = "acme" if (index + i) % 2 else "beta"  # each thread alternates tenants
                with tenant_pool.serving(), tenant_pool.serving(slug):  # as a task does
                    record = run_inline(whereami, {}, schema=slug, user=members[slug])
                with lock:
                    done[slug].append(str(record.id))
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    try:
        for thread in pool:
            thread.join()
    finally:
        tenant_pool.close()
    assert not errors, errors[:3]
    assert len(done["acme"]) + len(done["beta"]) == per_thread * threads
    for slug, other in (("acme", "beta"), ("beta", "acme")):
        with schema_context(slug):
            mine = ActionRecord.objects.filter(action=whereami)
            assert mine.count() == len(done[slug])
            assert not mine.filter(id__in=done[other]).exists()  # no row in the wrong schema
            for status, result in mine.values_list("status", "result"):
                if status == "ok":
                    assert result == {"where": slug, "tenant": slug}
                else:
                    assert slug == "acme"  # only acme's handler fails on purpose
