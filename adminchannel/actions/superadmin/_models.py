"""Super admin: a developer's time-boxed, audited promotion on one tenant (admin channel).

Models shared by several actions of this domain."""

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from actions.contract.payloads import FreeText, ObjectId, Result, TenantSlug


class Grant(Result):
    id: ObjectId
    tenant: TenantSlug
    reason: Annotated[FreeText, StringConstraints(max_length=500)]
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None  # set by demotion; None while the grant is live or just expired


def _grant(grant) -> Grant:
    return Grant(
        id=str(grant.pk),
        tenant=grant.tenant.schema_name,
        reason=grant.reason,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        ended_at=grant.ended_at,
    )
