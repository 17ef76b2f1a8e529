"""Models of `tenants` shared by both channels (`tenants.invitations.accept` and the
admin channel's actions in adminchannel/actions/tenants)."""

from datetime import datetime

from actions.catalog._common import TenantRole
from actions.contract.payloads import Email, ObjectId, Result, ShortText


class Member(Result):
    user_id: ObjectId
    email: Email
    name: ShortText | None
    role: TenantRole
    joined_at: datetime
