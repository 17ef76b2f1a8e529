"""`manage.py amqp_ingress --channel user|admin [--threads N]`: run one AMQP ingress process."""

from django.core.management.base import BaseCommand

from actions.edge.ingress import IngressProcess


class Command(BaseCommand):
    help = "Consume a channel's plain-JSON AMQP ingress (switchboard.ingress.<channel>)."

    def add_arguments(self, parser):
        parser.add_argument("--channel", choices=["user", "admin"], required=True)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, channel, threads, **options):
        IngressProcess(channel, threads=threads).run()
