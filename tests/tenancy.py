"""Helpers for tenancy tests: throwaway tenants and users, and running an action inline
(the executor in this process, no broker) where a test needs the worker's side effects
in this process (mail outbox, audit calls, schema checks)."""

import uuid

from django_tenants.utils import schema_context

from actions.contract.registry import registry
from actions.edge import pipeline
from actions.models import ActionRecord
from actions.worker import executor
from tenants import services
from tenants.identity import Actor
from tenants.models import Membership, User
from tenants.roles import MembershipRole
from tenants.tokens import token_issue_pair

PASSWORD = "tenancy-test-password"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def make_user(email: str, *, developer: bool = False) -> User:
    return services.user_ensure(email=email, password=PASSWORD, is_developer=developer)


def make_tenant(prefix: str = "t") -> dict:
    """A fresh tenant with a primary owner, a secondary owner and a member."""
    slug = unique(prefix)
    people = {role: make_user(f"{role}.{slug}@tenancy.test") for role in MembershipRole}
    tenant = services.tenant_create(slug=slug, name=slug)
    for role, user in people.items():
        Membership.objects.create(user=user, tenant=tenant, role=role)
    return {"slug": slug, "tenant": tenant, **{r.value: u for r, u in people.items()}}


def actor(user: User) -> Actor:
    return Actor(id=user.pk, email=user.email, is_developer=user.is_developer)


def bearer(user: User) -> str:
    return "Bearer " + token_issue_pair(user=user)["access_token"]


def submit(action: str, payload: dict, *, tenant: str, user: User | None, admin: bool):
    """Steps 1-9 only. Callers use it for answers that come before the record is stored."""
    spec = registry.get(action)
    return pipeline.submit(
        pipeline.Ingress(
            channel=spec.channel,
            body={
                "api": "1",
                "id": str(uuid.uuid4()),
                "action": action,
                "tenant": tenant,
                "payload": payload,
            },
            authorization=bearer(user) if user is not None else None,
        )
    )


def run_inline(action: str, payload: dict, *, schema: str, user: User | None) -> ActionRecord:
    """Store a record as the pipeline would and run it with the executor, here."""
    spec = registry.get(action)
    with schema_context(schema):
        record = ActionRecord.objects.create(
            action=spec.name,
            version=spec.version,
            channel=spec.channel.value,
            transport="rest",
            actor_id=user.pk if user else None,
            actor_email=user.email if user else "",
            payload=payload,
            payload_hash="inline",
            trace_id=uuid.uuid4().hex,
        )
    executor.execute(
        channel=spec.channel.value,
        schema=schema,
        record_id=str(record.id),
        worker="inline",
    )
    with schema_context(schema):
        return ActionRecord.objects.get(id=record.id)


def ok(record: ActionRecord):
    """The result of a record that ran well."""
    assert record.status == "ok", record.error
    return record.result


def code(record: ActionRecord) -> str:
    """The error code of a record that failed."""
    assert record.status == "error", record.result
    return record.error["code"]


def send(api, action: str, payload: dict, *, tenant: str, user: User | None) -> dict:
    """Through the REST gateway, the broker and the channel's worker (the `api` fixture,
    with `workers` running): the response envelope, checked."""
    from tests.envelopes import assert_envelope

    spec = registry.get(action)
    token = token_issue_pair(user=user)["access_token"] if user is not None else None
    env = {"api": "1", "id": str(uuid.uuid4()), "action": action, "tenant": tenant}
    response = api({**env, "payload": payload}, token=token, admin=spec.channel == "admin")
    return assert_envelope(response.json())
