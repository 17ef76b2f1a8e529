"""`manage.py seed_demo`: the demo tenants and users. Running it twice changes nothing."""

from django.core.management.base import BaseCommand

from tenants.services.demo import DEVELOPER, TENANTS, USERS, demo_seed


class Command(BaseCommand):
    help = "Create the demo tenants acme and beta, their users and a platform developer."

    def handle(self, *args, **options):
        for slug in TENANTS:
            self.stdout.write(f"tenant {slug} ...")
        demo_seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"demo ready: tenants {', '.join(TENANTS)}; users "
                f"{', '.join(u for u, _, _ in USERS)}, {DEVELOPER}"
            )
        )
