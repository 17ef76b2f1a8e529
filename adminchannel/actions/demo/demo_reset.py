"""`demo.reset`: Purge business data of demo tenants, reseed them and end their sessions."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from actions.contract.payloads import Payload, Result, TenantSlug
from actions.contract.registry import dummy
from tenants.roles import DEVELOPERS


class DemoReset(Payload):
    """Destructive: `confirm` must spell "reset". Sessions of the tenants are invalidated."""

    confirm: Literal["reset"]
    tenants: list[TenantSlug] = Field(min_length=1, max_length=20)


class DemoTenantReset(Result):
    tenant: TenantSlug
    purged: int = Field(ge=0)  # business rows removed
    seeded: int = Field(ge=0)  # demo rows written


class DemoResetDone(Result):
    tenants: list[DemoTenantReset] = Field(max_length=20)
    reset_at: datetime


dummy(  # TODO
    "demo.reset",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Purge business data of demo tenants, reseed them and end their sessions.",
    input=DemoReset,
    output=DemoResetDone,
    timeout_s=300,
)
