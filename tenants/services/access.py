"""Access: who is calling, on which tenant, with which roles, in one database round trip.

The pipeline needs three answers for every message: is the token's user live (active, the
token not revoked), which tenant the envelope names, and what roles the user holds there.
Asked one by one they cost three queries per action at the edge and two again on the
worker; this asks them in one statement, always fresh, so no cache can answer with a
revoked role. Rules are those of `roles_for` and `tokens._live_user`.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from tenants.identity import Actor
from tenants.models import RESERVED_SLUGS, Tenant
from tenants.roles import IMPLIED_ROLES, MembershipRole, Role

_TENANT_COLUMNS = [f.column for f in Tenant._meta.concrete_fields]
_TENANT_FIELDS = [f.attname for f in Tenant._meta.concrete_fields]

_PUBLIC = '"' + settings.PUBLIC_SCHEMA_NAME.replace('"', "") + '"'
# Tables named with their schema: the query runs under any search_path.
# %(uid)s is NULL for an anonymous caller: the user part then finds no row.
_SQL = f"""
WITH t AS (
    SELECT {", ".join(f'"{c}"' for c in _TENANT_COLUMNS)} FROM {_PUBLIC}.tenants_tenant
    WHERE schema_name = %(slug)s
), u AS (
    SELECT id, email, is_developer, tokens_valid_after FROM {_PUBLIC}.tenants_user
    WHERE id = %(uid)s AND is_active
)
SELECT
    (SELECT row_to_json(t) FROM t) AS tenant,
    u.id, u.email, u.is_developer, u.tokens_valid_after,
    EXISTS (SELECT 1 FROM {_PUBLIC}.tenants_revokedtoken r WHERE r.jti = %(jti)s) AS revoked,
    (SELECT m.role FROM {_PUBLIC}.tenants_membership m, t
      WHERE m.user_id = u.id AND m.tenant_id = t.id LIMIT 1) AS member_role,
    EXISTS (SELECT 1 FROM {_PUBLIC}.tenants_superadmingrant g, t
      WHERE g.user_id = u.id AND g.tenant_id = t.id AND g.ended_at IS NULL
        AND g.expires_at > now()) AS promoted,
    EXISTS (SELECT 1 FROM {_PUBLIC}.tenants_superadmingrant g, t
      WHERE g.user_id = u.id AND g.tenant_id = t.id AND g.ended_at IS NULL
        AND g.expires_at <= now()) AS lapsed
FROM (SELECT 1) AS one LEFT JOIN u ON true
"""  # noqa: S608  (names come from the model and settings, values are parameters)


@dataclass(frozen=True)
class Access:
    user: dict | None  # id, email, is_developer, tokens_valid_after, revoked; None: no such
    tenant: Tenant | None  # None: the platform, or no tenant of that slug
    roles: frozenset[str]

    def actor(self, token_id: str = "") -> Actor | None:
        if self.user is None:
            return None
        return Actor(
            id=self.user["id"],
            email=self.user["email"],
            is_developer=self.user["is_developer"],
            token_id=token_id,
        )


def access_resolve(*, user_id: int | None, slug: str | None, token_id: str = "") -> Access:
    """The user (if active), the tenant named `slug` (None: the platform) and the user's
    roles there. A super-admin grant found lapsed is closed and audited, as roles_for does."""
    from tenants.services.superadmin import superadmin_expire_due

    if slug in RESERVED_SLUGS:
        slug = None
    with connection.cursor() as cursor:
        cursor.execute(_SQL, {"slug": slug, "uid": user_id, "jti": token_id or None})
        row = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
    data = row["tenant"]
    tenant = _tenant(json.loads(data) if isinstance(data, str) else data) if data else None
    user = None
    if row["id"] is not None:
        user = {k: row[k] for k in ("id", "email", "is_developer", "tokens_valid_after")}
        user["revoked"] = row["revoked"]
    if user is not None and row["lapsed"] and tenant is not None:
        superadmin_expire_due(user_id=user["id"], tenant=tenant)
    return Access(user=user, tenant=tenant, roles=_roles(row, user, on_platform=slug is None))


def _tenant(data: dict) -> Tenant:
    """A Tenant model instance from the row's JSON, as if loaded by the ORM."""
    values = [data[column] for column in _TENANT_COLUMNS]
    tenant = Tenant(**dict(zip(_TENANT_FIELDS, values, strict=True)))
    tenant._state.adding = False
    # JSON gives the timestamp as text: let the model field parse it.
    created = Tenant._meta.get_field("created_at")
    tenant.created_at = created.to_python(tenant.created_at)
    return tenant


def _roles(row: dict, user: dict | None, *, on_platform: bool) -> frozenset[str]:
    if user is None:
        return frozenset({Role.ANONYMOUS.value})
    roles = {Role.ANONYMOUS.value}
    if on_platform:  # signed in, acting on the platform (account actions)
        roles.add(Role.AUTHENTICATED.value)
    if user["is_developer"]:
        roles.add(Role.DEVELOPER.value)
        if row["promoted"] and not on_platform:
            roles.add(Role.SUPER_ADMIN.value)
    if row["member_role"] and not on_platform:
        roles |= IMPLIED_ROLES[MembershipRole(row["member_role"])]
    return frozenset(roles)
