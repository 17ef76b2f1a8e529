"""tenants/roles.py: the role vocabulary and the one rule for "acting as super admin"."""

import pytest

from tenants.roles import (
    DEVELOPERS,
    IMPLIED_ROLES,
    MEMBERS,
    OWNERS,
    PRIMARY_OWNER,
    ROLE_NAMES,
    MembershipRole,
    Role,
    acting_as_super_admin,
)


def test_groups_and_memberships_speak_the_vocabulary():
    for group in (MEMBERS, OWNERS, PRIMARY_OWNER, DEVELOPERS):
        assert set(group) <= set(ROLE_NAMES) and all(type(r) is str for r in group)
    assert set(MembershipRole.values) == set(IMPLIED_ROLES)
    assert IMPLIED_ROLES[MembershipRole.PRIMARY_OWNER] == {"member", "owner", "primary_owner"}


@pytest.mark.parametrize(
    ("held", "action_roles", "expected"),
    [
        # A developer with no membership, under a grant: always the grant.
        ({"developer", "super_admin"}, OWNERS, True),
        ({"developer", "super_admin"}, None, True),
        # An owner-developer under a grant, on an action only a primary owner may run:
        # their membership would not allow it, so the grant does (the case that the
        # catalog and the audit hook used to disagree on).
        ({"developer", "super_admin", "member", "owner"}, PRIMARY_OWNER, True),
        # The same person on an owner action: they act as themselves.
        ({"developer", "super_admin", "member", "owner"}, OWNERS, False),
        # Any membership with nothing to compare against: as themselves.
        ({"super_admin", "member"}, None, False),
        ({"super_admin", "member"}, ("anonymous",), False),
        # No grant, no super admin.
        ({"member", "owner", "primary_owner"}, PRIMARY_OWNER, False),
    ],
)
def test_acting_as_super_admin(held, action_roles, expected):
    assert acting_as_super_admin(roles=frozenset(held), action_roles=action_roles) is expected


def test_enum_members_and_strings_mean_the_same():
    held = {Role.SUPER_ADMIN, Role.OWNER, Role.MEMBER}
    assert acting_as_super_admin(roles=held, action_roles=PRIMARY_OWNER)
