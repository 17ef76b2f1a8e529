"""`manage.py tenant_create <slug> --name ... --owner email`: provision a tenant, with
progress, through the same service as the `tenants.create` action."""

import time

from django.core.management.base import BaseCommand, CommandError

from tenants.config import ConfigInvalid
from tenants.errors import TenancyError
from tenants.services import tenant_provision


class Command(BaseCommand):
    help = "Create a tenant: its schema, its primary owner (invited by mail), its config."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner", required=True, help="email of the primary owner")

    def handle(self, *args, slug, name, owner, **options):
        started = time.monotonic()

        def progress(step: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:6.2f}s] {slug}: {step}")

        try:
            tenant_provision(
                slug=slug, name=name, primary_owner_email=owner, by=None, progress=progress
            )
        except (TenancyError, ConfigInvalid) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"tenant {slug} ready"))
