"""Access: who is calling, on which tenant, with which roles, in one database round trip.

The pipeline needs three answers for every message: is the token's user live (active, the
token not revoked), which tenant the envelope names, and what roles the user holds there.
Asked one by one they cost three queries per action at the edge and two again on the
worker; this asks them in one statement. The web and the ingress may answer it from
tenants.access_cache, which holds a row only while PostgreSQL's notifications would
empty it on any change to the five tables it reads; the worker always asks afresh. This
is the one place the roles rule lives (`roles_for` asks it too); the token's liveness
is `tokens.check_live`'s.
"""

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from config.db import execute_prepared
from tenants import access_cache
from tenants.identity import Actor
from tenants.models import RESERVED_SLUGS, Tenant
from tenants.roles import IMPLIED_ROLES, MembershipRole, Role

_TENANT_COLUMNS = [f.column for f in Tenant._meta.concrete_fields]
_TENANT_FIELDS = [f.attname for f in Tenant._meta.concrete_fields]

_PUBLIC = '"' + settings.PUBLIC_SCHEMA_NAME.replace('"', "") + '"'
# Tables named with their schema: the query runs under any search_path.
# %(uid)s is NULL for an anonymous caller: the user part then finds no row.
_SQL = f"""
SELECT {", ".join(f't."{c}"' for c in _TENANT_COLUMNS)}, t.id IS NOT NULL AS tenant_found,
       u.id AS user_id, u.email, u.is_developer, u.tokens_valid_after,
       EXISTS (SELECT 1 FROM {_PUBLIC}.tenants_revokedtoken r WHERE r.jti = %(jti)s) AS revoked,
       m.role AS member_role,
       g.expires_at > now() AS promoted, g.expires_at <= now() AS lapsed
  FROM (SELECT 1) AS one
  LEFT JOIN {_PUBLIC}.tenants_user u ON u.id = %(uid)s AND u.is_active
  LEFT JOIN {_PUBLIC}.tenants_tenant t ON t.schema_name = %(slug)s
  LEFT JOIN {_PUBLIC}.tenants_membership m ON m.user_id = u.id AND m.tenant_id = t.id
  LEFT JOIN {_PUBLIC}.tenants_superadmingrant g
         ON g.user_id = u.id AND g.tenant_id = t.id AND g.ended_at IS NULL
"""  # noqa: S608  (names come from the model and settings, values are parameters)


_NAMES = ["tenant_found", "user_id", "email", "is_developer", "tokens_valid_after", "revoked",
          "member_role", "promoted", "lapsed"]  # fmt: skip


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
    roles there. A super-admin grant found lapsed is closed and audited, as roles_for does.

    In a process that turned it on (the web, the ingress), the row may come from
    tenants.access_cache, which PostgreSQL's notifications empty on every change."""
    statement, params = access_statement(user_id=user_id, slug=slug, token_id=token_id)
    key = (params["uid"], params["slug"], params["jti"])
    values, generation = access_cache.lookup(key)
    if values is None:
        # Prepared (config.db): planning this query costs more than running it.
        values, _ = execute_prepared(statement, params, label="access_resolve")
        assert values is not None  # the FROM clause always yields exactly one row
        if _cacheable(values, params):
            access_cache.store(key, values, generation)
    return access_from_row(values, slug=params["slug"])


def _cacheable(values, params: dict) -> bool:
    """Not a row that the clock changes (a super-admin grant lapses), nor one for names
    that do not exist (invented names would fill the cache)."""
    row = dict(zip(_NAMES, values[len(_TENANT_COLUMNS) :], strict=True))
    if row["promoted"] is not None or row["lapsed"] is not None:
        return False
    if params["slug"] is not None and not row["tenant_found"]:
        return False
    return params["uid"] is None or row["user_id"] is not None


def access_statement(
    *, user_id: int | None, slug: str | None, token_id: str = "", schema: str | None = None
) -> tuple:
    """(statement, params) of `access_resolve`, for a caller that sends it with others in
    one round trip; `access_from_row` reads its row.

    `schema`: the caller runs it under that tenant's search_path (the worker). PostgreSQL
    plans a prepared statement again whenever the search_path differs from its last run,
    so one text shared by every tenant would be planned at almost every action (0.3 ms of
    the server's time, measured at 10 tenants); the text then names the schema in a
    comment, and each tenant has its own prepared statement (config/db.py)."""
    if slug in RESERVED_SLUGS:
        slug = None
    return _text_for(schema), {"slug": slug, "uid": user_id, "jti": token_id or None}


@functools.lru_cache(maxsize=4096)
def _text_for(schema: str | None) -> str:
    if schema is None or not _SCHEMA_NAME.fullmatch(schema):
        return _SQL  # never text of unknown form in a statement: the shared one then
    return f"/* {schema} */{_SQL}"


_SCHEMA_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]{0,62}")


def access_from_row(values, *, slug: str | None) -> Access:
    from tenants.services.superadmin import superadmin_expire_due

    assert values is not None  # the FROM clause always yields exactly one row
    row = dict(zip(_NAMES, values[len(_TENANT_COLUMNS) :], strict=True))
    tenant = None
    if row["tenant_found"]:
        tenant = _tenant(values[: len(_TENANT_COLUMNS)])
    user = None
    if row["user_id"] is not None:
        user = {
            "id": row["user_id"],
            "email": row["email"],
            "is_developer": row["is_developer"],
            "tokens_valid_after": row["tokens_valid_after"],
            "revoked": row["revoked"],
        }
    if user is not None and row["lapsed"] and tenant is not None:
        superadmin_expire_due(user_id=user["id"], tenant=tenant)
    return Access(user=user, tenant=tenant, roles=_roles(row, user, on_platform=slug is None))


def _tenant(values) -> Tenant:
    """A Tenant as the ORM would load it (its JSON fields decoded by the field)."""
    decoded = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(Tenant._meta.concrete_fields, values, strict=True)
    ]
    return Tenant.from_db(connection.alias, _TENANT_FIELDS, decoded)


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
