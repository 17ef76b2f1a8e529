"""`manage.py export_contract [--out DIR] [--check]`: write (or check) the contract files."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from actions.contract.index import contract_files, export, render


class Command(BaseCommand):
    help = "Export the index, envelope and action JSON Schemas, OpenAPI and AsyncAPI."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "contract"))
        parser.add_argument(
            "--check",
            action="store_true",
            help="Fail if the committed files differ from the index.",
        )

    def handle(self, *args, out, check, **options):
        directory = Path(out)
        if check:
            stale = [
                rel
                for rel, doc in contract_files().items()
                if not (directory / rel).exists() or (directory / rel).read_text() != render(doc)
            ]
            expected = set(contract_files())
            stale += sorted(  # files of actions that are no longer in the index
                p.relative_to(directory).as_posix()
                for p in directory.rglob("*.json")
                if p.relative_to(directory).as_posix() not in expected
            )
            if stale:
                self.stderr.write("contract drift (run `make contract`): " + ", ".join(stale[:20]))
                sys.exit(1)
            self.stdout.write("contract matches the index")
            return
        for old in directory.rglob("*.json"):  # start clean: removed actions leave no file
            old.unlink()
        written = export(directory)
        self.stdout.write(f"wrote {len(written)} files to {directory}")
