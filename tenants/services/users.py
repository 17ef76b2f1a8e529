"""Users: the active account, its memberships, and get-or-create for the demo seed."""

from tenants.errors import TenancyError
from tenants.models import User


def user_get(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise TenancyError("unauthenticated", "The account is not active.")
    return user


def memberships_of(*, user: User) -> list[dict[str, str]]:
    return [
        {"tenant": m.tenant.schema_name, "role": m.role}
        for m in user.memberships.select_related("tenant").order_by("tenant_id")
    ]


def user_ensure(*, email: str, password: str, name: str = "", is_developer: bool = False) -> User:
    """Get or create a user; an existing user keeps its password."""
    user = User.objects.filter(email=email.lower()).first()
    if user is None:
        user = User.objects.create_user(
            email, password, name=name, is_developer=is_developer, is_staff=is_developer
        )
    return user
