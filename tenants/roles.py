"""Role names: the one vocabulary of who may do what, for memberships, the index and the
pipeline alike.

`anonymous`: no credential needed (everyone holds it). Tenant roles come from
memberships (`member`, `owner`, `primary_owner`, each implying those below it);
`super_admin` from a live promotion of a developer on the tenant; `developer` is a
platform staff account; `authenticated` is anyone signed in acting on the platform itself
(tenant "platform": account actions).

This module imports nothing of the project, so that every package may use it.
"""

from collections.abc import Iterable
from enum import StrEnum

from django.db import models


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    AUTHENTICATED = "authenticated"
    MEMBER = "member"
    OWNER = "owner"
    PRIMARY_OWNER = "primary_owner"
    SUPER_ADMIN = "super_admin"
    DEVELOPER = "developer"


class MembershipRole(models.TextChoices):
    """The roles a membership row stores (Membership.role)."""

    MEMBER = Role.MEMBER.value
    OWNER = Role.OWNER.value
    PRIMARY_OWNER = Role.PRIMARY_OWNER.value


def _names(*roles: Role) -> tuple[str, ...]:
    # Plain strings, not enum members: role sets travel as JSON and into the index.
    return tuple(str(role) for role in roles)


# A membership role implies the roles below it.
IMPLIED_ROLES: dict[str, frozenset[str]] = {
    MembershipRole.MEMBER: frozenset(_names(Role.MEMBER)),
    MembershipRole.OWNER: frozenset(_names(Role.MEMBER, Role.OWNER)),
    MembershipRole.PRIMARY_OWNER: frozenset(_names(Role.MEMBER, Role.OWNER, Role.PRIMARY_OWNER)),
}
MEMBERSHIP_ROLES = frozenset(_names(Role.MEMBER, Role.OWNER, Role.PRIMARY_OWNER))
OWNER_ROLES = frozenset(_names(Role.OWNER, Role.PRIMARY_OWNER))
# Roles that make a caller one of the tenant's people (a membership or a live grant).
TENANT_ROLES = MEMBERSHIP_ROLES | {str(Role.SUPER_ADMIN)}


# Who may run an index entry (`roles=` of actions.contract.registry.action), as plain strings.
ROLE_NAMES = _names(*Role)
PUBLIC = _names(Role.ANONYMOUS)
MEMBERS = _names(Role.MEMBER, Role.OWNER, Role.PRIMARY_OWNER, Role.SUPER_ADMIN)
# Anyone signed in, on the platform (tenant "platform") or as a member of the tenant.
SIGNED_IN = (*MEMBERS, str(Role.AUTHENTICATED))
OWNERS = _names(Role.OWNER, Role.PRIMARY_OWNER, Role.SUPER_ADMIN)
PRIMARY_OWNER = _names(Role.PRIMARY_OWNER, Role.SUPER_ADMIN)
DEVELOPERS = _names(Role.DEVELOPER, Role.SUPER_ADMIN)


def acting_as_super_admin(*, roles: Iterable[str], action_roles: Iterable[str] | None) -> bool:
    """Whether someone holding `roles` (super_admin included when a grant of theirs is
    live) acts by virtue of the grant rather than as themselves, on an action that allows
    `action_roles` (None: unknown, as for the Django admin site).

    As themselves when their membership roles alone would allow the action (or, with no
    action roles to compare, when they have any membership): an owner-developer under a
    grant acts as super admin on an action only a primary owner may run.
    """
    held = set(roles)
    if Role.SUPER_ADMIN not in held:
        return False
    membership = held & MEMBERSHIP_ROLES
    needed = set(action_roles or ()) - {Role.ANONYMOUS}
    return not (membership and (not needed or membership & needed))
