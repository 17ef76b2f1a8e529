"""Action records made directly in a tenant's table, as the pipeline stores them (test
set-up for the worker, the sweep and the purge, without going through the edge)."""

from django_tenants.utils import schema_context

from actions.models import ActionRecord
from tests.conftest import new_id


def stored(
    schema: str = "acme", action: str = "leads.list", *, sender: str = "member@acme.test", **fields
) -> ActionRecord:
    """A record of `action` sent by `sender`, with any other field given."""
    from tenants.models import User

    user = User.objects.get(email=sender)
    defaults = {
        "id": new_id(),
        "version": 1,
        "channel": "user",
        "transport": "rest",
        "payload": {},
        "payload_hash": "x",
        "trace_id": "t" * 32,
    }
    with schema_context(schema):
        return ActionRecord.objects.create(
            action=action, actor_id=user.pk, actor_email=user.email, **(defaults | fields)
        )


class RunningAsAWorker:
    """A cta record stored as the edge stores a first delivery, then held `running` under
    its row lock from a connection of its own, as a worker running the action holds it
    (the short way, actions.worker.executor); `finish(result)` commits its outcome.
    `envelope` is the message whose repeat the test sends."""

    PAYLOAD = {"surface": "home", "cta_id": "signup", "event": "click"}

    def __init__(self, *, sender: str = "member@acme.test", transport: str = "rest"):
        import psycopg
        from django.db import connection

        from actions.contract.registry import registry
        from actions.edge.pipeline import payload_hash
        from actions.records import record_store
        from tenants.models import User
        from tests.conftest import envelope

        user = User.objects.get(email=sender)
        spec = registry.get("analytics.cta.record")
        self.envelope = envelope(spec.name, self.PAYLOAD)
        record_store(
            schema="acme",
            id=self.envelope["id"],
            action=spec.name,
            version=spec.version,
            channel="user",
            transport=transport,
            actor_id=user.id,
            actor_email=user.email,
            payload=spec.input.model_validate(self.PAYLOAD).model_dump(mode="json"),
            payload_hash=payload_hash(spec.name, spec.version, user.id, self.PAYLOAD),
            meta={},
            trace_id="t" * 32,
            reply_to=[],
        )
        self._worker = psycopg.connect(
            **{**connection.get_connection_params(), "autocommit": False}
        )
        record_id = [self.envelope["id"]]
        self._worker.execute(
            "UPDATE acme.actions_actionrecord SET status = 'running' WHERE id = %s", record_id
        )
        self._worker.execute(
            "SELECT 1 FROM acme.actions_actionrecord WHERE id = %s FOR UPDATE", record_id
        )

    def finish(self, result: dict) -> None:
        import json

        try:
            self._worker.execute(
                "UPDATE acme.actions_actionrecord SET status = 'ok', result = %s, "
                "finished_at = now() WHERE id = %s",
                [json.dumps(result), self.envelope["id"]],
            )
            self._worker.commit()
        finally:
            self._worker.close()

    def close(self) -> None:
        self._worker.close()
