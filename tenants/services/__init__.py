"""Tenant services: lookups, role resolution, and every write to tenants, users,
memberships, config and super-admin grants (`<entity>_<verb>`, keyword-only).

Role and config changes write their admin-audit entry in the same transaction as the
change. Expected failures raise tenants.errors.TenancyError with a message-API code.

One module per idea; callers import from this package (`from tenants import services`,
`from tenants.services import tenant_get`), never from the modules, so that they can move.
"""

from tenants.platform import PLATFORM  # for callers that spell it tenants.services.PLATFORM
from tenants.services.access import Access, access_from_row, access_resolve, access_statement
from tenants.services.configuration import config_defaults, config_get, config_set
from tenants.services.demo import demo_reset_people, demo_seed
from tenants.services.invitations import INVITATION_TTL, invitation_accept, member_invite
from tenants.services.members import (
    member_describe,
    member_remove,
    membership_ensure,
    owner_delegate,
    owner_list,
    owner_revoke,
    primary_transfer,
)
from tenants.services.roles import admin_tenants_for, roles_for
from tenants.services.superadmin import (
    DEFAULT_PROMOTION_MINUTES,
    MAX_PROMOTION_MINUTES,
    superadmin_demote,
    superadmin_expire_due,
    superadmin_grant_acted_under,
    superadmin_promote,
)
from tenants.services.tenants import (
    tenant_create,
    tenant_describe,
    tenant_get,
    tenant_list,
    tenant_provision,
)
from tenants.services.users import memberships_of, user_ensure, user_get

__all__ = [
    "Access",
    "access_from_row",
    "access_resolve",
    "access_statement",
    "DEFAULT_PROMOTION_MINUTES",
    "INVITATION_TTL",
    "MAX_PROMOTION_MINUTES",
    "PLATFORM",
    "admin_tenants_for",
    "config_defaults",
    "config_get",
    "config_set",
    "demo_reset_people",
    "demo_seed",
    "invitation_accept",
    "member_describe",
    "member_invite",
    "member_remove",
    "membership_ensure",
    "memberships_of",
    "owner_delegate",
    "owner_list",
    "owner_revoke",
    "primary_transfer",
    "roles_for",
    "superadmin_demote",
    "superadmin_expire_due",
    "superadmin_grant_acted_under",
    "superadmin_promote",
    "tenant_create",
    "tenant_describe",
    "tenant_get",
    "tenant_list",
    "tenant_provision",
    "user_ensure",
    "user_get",
]
