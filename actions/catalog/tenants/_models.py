"""Tenants: creation, configuration, owners and members (admin channel).

Models shared by several actions of this domain."""

from datetime import datetime

from actions.catalog._common import TenantRole
from actions.contract.payloads import Email, ObjectId, Result, ShortText


class Member(Result):
    user_id: ObjectId
    email: Email
    name: ShortText | None
    role: TenantRole
    joined_at: datetime
