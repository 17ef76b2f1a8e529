"""`manage.py seed_demo`: the demo tenants and users. Running it twice changes nothing."""

import os

from django.core.management.base import BaseCommand

from tenants.roles import MembershipRole
from tenants.services import membership_ensure, tenant_create, user_ensure

DEFAULT_PASSWORD = "switchboard-demo"
TENANTS = {"acme": "Acme Corporation", "beta": "Beta Industries"}
USERS = [
    ("owner@acme.test", "acme", MembershipRole.PRIMARY_OWNER),
    ("member@acme.test", "acme", MembershipRole.MEMBER),
    ("owner@beta.test", "beta", MembershipRole.PRIMARY_OWNER),
    ("member@beta.test", "beta", MembershipRole.MEMBER),
]
DEVELOPER = "dev@switchboard.test"


class Command(BaseCommand):
    help = "Create the demo tenants acme and beta, their users and a platform developer."

    def handle(self, *args, **options):
        password = os.environ.get("SWITCHBOARD_DEMO_PASSWORD", DEFAULT_PASSWORD)
        tenants = {}
        for slug, name in TENANTS.items():
            self.stdout.write(f"tenant {slug} ...")
            tenants[slug] = tenant_create(slug=slug, name=name)
        for email, slug, role in USERS:
            user = user_ensure(email=email, password=password)
            membership_ensure(user=user, tenant=tenants[slug], role=role)
        user_ensure(
            email=DEVELOPER, password=password, name="Platform developer", is_developer=True
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"demo ready: tenants {', '.join(TENANTS)}; users "
                f"{', '.join(u for u, _, _ in USERS)}, {DEVELOPER}"
            )
        )
