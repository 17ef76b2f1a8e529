"""What an action handler receives besides its payload."""

from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import cached_property

from actions.contract.errors import ActionError, ErrorCode
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
    # The connectors (actions.contract.connectors.ConnectorGateway), set by the worker's
    # executor: the one way an action reaches an outside service. None elsewhere.
    gateway: Any = field(default=None, compare=False, repr=False)

    @property
    def connectors(self):
        """The ConnectorGateway; only a handler running on a worker has one."""
        if self.gateway is None:
            raise ActionError(
                ErrorCode.INTERNAL_ERROR, "Connectors are reachable on a worker only."
            )
        return self.gateway

    @cached_property
    def tenant_obj(self):
        from tenants.models import Tenant

        return Tenant.objects.get(schema_name=self.schema)
