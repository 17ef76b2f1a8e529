"""`manage.py connector_replay TRACE_ID [--tenant SLUG]`: re-run the transformations of a
stored connector trace offline and show where they differ from what was stored."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, schema_context

from connectors.models import ConnectorTrace
from connectors.replay import replay


class Command(BaseCommand):
    help = "Re-run a stored connector trace's transformations offline and show differences."

    def add_arguments(self, parser):
        parser.add_argument("trace_id", help="the connector trace's id (connectors.traces.list)")
        parser.add_argument("--tenant", help="the tenant's slug (default: search every tenant)")

    def handle(self, *args, trace_id: str, tenant: str | None = None, **options):
        trace, schema = self._find(trace_id, tenant)
        self.stdout.write(
            f"trace {trace.id} ({schema}): {trace.connector} v{trace.connector_version} for "
            f"{trace.action}, message {trace.message_id}, outcome {trace.outcome}"
        )
        with schema_context(schema):
            results = replay(trace)
        differs = False
        for result in results:
            self.stdout.write(
                f"  {result.step}: {result.status}" + (f" ({result.note})" if result.note else "")
            )
            for line in result.differences:
                self.stdout.write(f"    {line}")
            differs |= result.status == "differs"
        if differs:
            raise CommandError("the replay differs from the stored trace")

    def _find(self, trace_id: str, tenant: str | None):
        schemas = (
            [tenant]
            if tenant
            else list(get_tenant_model().objects.values_list("schema_name", flat=True))
        )
        for schema in schemas:
            with schema_context(schema):
                trace = ConnectorTrace.objects.filter(id=trace_id).first()
            if trace is not None:
                return trace, schema
        raise CommandError(f"no connector trace {trace_id}")
