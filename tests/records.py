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
