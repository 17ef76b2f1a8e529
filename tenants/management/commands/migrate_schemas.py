"""`manage.py migrate_schemas`: django-tenants' command with a fast path for many tenants.

Same name, same options, same behaviour for the public schema and for one schema
(`--schema`, which is how a new tenant is migrated). For all tenant schemas at once it
first asks every schema's `django_migrations` which schemas lack a migration on disk
(tenants/migration_state.py: a few queries for 1,000 schemas) and runs Django's `migrate`
only in those, in a bounded pool of processes (`--processes`, default the setting
`TENANT_MULTIPROCESSING_MAX_PROCESSES`; spawned, each with its own database connection),
with a progress bar. `--every-schema` runs django-tenants' own loop over every schema instead
(the reference the benchmark compares with). A migration target (`app_label`,
`migration_name`), `--fake`, `--fake-initial`, `--plan`, `--prune`, `--check` and
`--run-syncdb` also take django-tenants' own path: they are about schemas that are not
behind too.

This app comes before `django_tenants` in INSTALLED_APPS so that this command is the
one `manage.py migrate_schemas` finds.
"""

import multiprocessing
import sys
import time

from django.conf import settings
from django_tenants.management.commands.migrate_schemas import (
    MigrateSchemasCommand,
)
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import get_tenant_model, has_multi_type_tenants
from tqdm import tqdm

from tenants.migration_state import migrations_on_disk, schemas_behind

_STOCK_ONLY = ("fake", "fake_initial", "plan", "prune", "check_unapplied", "run_syncdb")


def _migrate_one(job: tuple[list, dict, str]) -> str:
    """Django's migrate in one schema (a pool process; django-tenants' own function)."""
    args, options, schema = job
    run_migrations(args, options, "fast", schema, allow_atomic=False)
    return schema


def _start_child() -> None:
    """A pool process: started fresh (spawn), so it sets up Django itself."""
    import django

    django.setup()


def _plain(options: dict) -> dict:
    """The options a child can be sent (no streams: children write to their stdout)."""
    return {k: v for k, v in options.items() if isinstance(v, str | int | float | bool | None)}


class Command(MigrateSchemasCommand):
    help = MigrateSchemasCommand.help + (
        " Tenant schemas whose django_migrations already holds every migration are skipped."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--every-schema",
            action="store_true",
            help="Run migrate in every tenant schema, as django-tenants does (no fast path).",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="Schemas migrated at once (default: TENANT_MULTIPROCESSING_MAX_PROCESSES).",
        )

    def handle(self, *args, **options):
        fast = not (
            options["every_schema"]
            or options.get("schema_name")
            or options.get("app_label")
            or has_multi_type_tenants()
            or any(options.get(name) for name in _STOCK_ONLY)
        )
        # --shared/--tenant as django-tenants reads them (both when neither is given).
        tenant_schemas = options.get("tenant") or not options.get("shared")
        if not fast or not tenant_schemas:
            return super().handle(*args, **options)
        if options.get("shared") or not options.get("tenant"):  # the public schema first
            super().handle(*args, **{**options, "shared": True, "tenant": False})
        self._migrate_tenants_behind(args, options)

    def _migrate_tenants_behind(self, args, options) -> None:
        verbosity = int(options.get("verbosity", 1))
        database = options.get("database") or "default"
        started = time.monotonic()
        public = settings.PUBLIC_SCHEMA_NAME
        schemas = list(
            get_tenant_model()
            .objects.using(database)
            .exclude(schema_name=public)
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
        expected = migrations_on_disk()
        behind = schemas_behind(schemas, expected=expected, using=database)
        if verbosity >= 1:
            self.stdout.write(
                f"{len(schemas)} tenant schemas: {len(schemas) - len(behind)} up to date "
                f"(skipped), {len(behind)} to migrate ({time.monotonic() - started:.2f} s)"
            )
        if not behind:
            return
        processes = options.get("processes") or getattr(
            settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", 2
        )
        processes = max(1, min(processes, len(behind)))
        child_options = _plain({**options, "shared": False, "tenant": True})
        jobs = [(list(args), child_options, schema) for schema in behind]
        bar = tqdm(
            total=len(behind),
            unit="schema",
            desc="migrate_schemas",
            file=sys.stderr,
            disable=verbosity == 0,
        )
        try:
            if processes == 1:
                for job in jobs:
                    _migrate_one(job)
                    bar.update()
            else:
                # Spawned, not forked: a forked child would share this process's database
                # connection, and kombu closes inherited broker pools in each child after
                # the fork, which resets the connections of a caller running this command
                # in its own process (a test, a benchmark).
                context = multiprocessing.get_context("spawn")
                with context.Pool(processes=processes, initializer=_start_child) as pool:
                    for _schema in pool.imap_unordered(_migrate_one, jobs):
                        bar.update()
        finally:
            bar.close()
        still = schemas_behind(behind, expected=expected, using=database)
        if still:
            raise RuntimeError(f"schemas still behind after migrate: {', '.join(still[:20])}")
        if verbosity >= 1:
            self.stdout.write(
                f"migrated {len(behind)} schemas with {processes} processes in "
                f"{time.monotonic() - started:.1f} s"
            )
