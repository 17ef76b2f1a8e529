"""What an action handler receives besides its payload."""

from dataclasses import dataclass, field

from django.utils.functional import cached_property

from tenants.identity import Actor


@dataclass(frozen=True)
class ActionContext:
    tenant: str  # slug; "platform" for platform-scoped actions
    schema: str  # the PostgreSQL schema the handler runs in
    actor: Actor | None
    message_id: str
    action: str
    version: int
    channel: str
    trace_id: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def tenant_obj(self):
        from tenants.models import Tenant

        return Tenant.objects.get(schema_name=self.schema)
