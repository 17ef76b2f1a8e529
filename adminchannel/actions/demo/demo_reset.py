"""`demo.reset`: Purge business data of demo tenants, reseed them and end their sessions
(docs/tenancy.md, "The demo and its reset")."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.contract.payloads import Payload, Result, TenantSlug
from actions.contract.registry import action
from tenants.roles import DEVELOPERS


class DemoReset(Payload):
    """Destructive: `confirm` must spell "reset". Sessions of the tenants are invalidated."""

    confirm: Literal["reset"]
    tenants: list[TenantSlug] = Field(min_length=1, max_length=20)


class DemoTenantReset(Result):
    tenant: TenantSlug
    purged: int = Field(ge=0)  # business rows removed (and members, invitations not seeded)
    seeded: int = Field(ge=0)  # demo rows written
    users_signed_out: int = Field(ge=0)


class DemoResetDone(Result):
    tenants: list[DemoTenantReset] = Field(max_length=20)
    reset_at: datetime


@action(
    "demo.reset",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Purge business data of demo tenants, reseed them and end their sessions.",
    input=DemoReset,
    output=DemoResetDone,
    timeout_s=300,
    state="under_dev",
)
def demo_reset(ctx, payload: DemoReset) -> DemoResetDone:
    from django.utils import timezone

    from actions.contract.errors import ActionError, ErrorCode
    from actions.purge import schema_business_purge
    from tenants.services import demo_reset_people
    from tenants.services.demo import TENANTS

    unknown = sorted(set(payload.tenants) - set(TENANTS))
    if unknown:  # refuse before touching anything
        raise ActionError(
            ErrorCode.FORBIDDEN,
            f"Not demo tenants: {', '.join(unknown)}. Only {', '.join(TENANTS)} can be reset.",
        )
    done = []
    for slug in dict.fromkeys(payload.tenants):
        purged = schema_business_purge(schema=slug)
        people = demo_reset_people(slug=slug, by=ctx.actor)
        done.append(
            DemoTenantReset(
                tenant=slug,
                purged=purged + people["purged"],
                seeded=people["seeded"],
                users_signed_out=people["users_signed_out"],
            )
        )
    return DemoResetDone(tenants=done, reset_at=timezone.now())
