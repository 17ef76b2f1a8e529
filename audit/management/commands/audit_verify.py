"""`manage.py audit_verify`: walk the admin audit log's hash chain.

Exit status 0 when every entry fits; 1 with the first entry whose content, order or
presence was tampered with.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.admin_log import audit_verify


class Command(BaseCommand):
    help = "Verify the admin audit log's hash chain; report the first tampered entry."

    def handle(self, *args, **options):
        verdict = audit_verify()
        if not verdict.ok:
            raise CommandError(
                f"admin audit log tampered: entry {verdict.first_bad_seq}: {verdict.problem} "
                f"({verdict.checked} entries before it are intact)"
            )
        self.stdout.write(f"admin audit log intact: {verdict.checked} entries verified")
