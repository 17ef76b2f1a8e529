"""The Celery app. Workers run one channel each: `celery -A config worker --channel user`.

Queues and exchanges are declared once, in settings (CELERY_TASK_QUEUES); the channel
option makes a worker consume its channel's action queue only (the AMQP ingress is
its own process: `manage.py amqp_ingress`).
"""

import os

from celery import Celery
from click import Choice, Option

from config.environments import settings_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["actions.worker", "audit", "adminchannel", "tenants"])

app.user_options["worker"].add(
    Option(
        ["--channel"],
        type=Choice(["user", "admin"]),
        default=None,
        help="Serve one Switchboard channel: its action queue and its AMQP ingress.",
    )
)

from actions.worker import steps as worker_steps  # noqa: E402  (needs `app`)

app.steps["worker"].add(worker_steps.ChannelStep)
