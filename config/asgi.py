"""ASGI entry point (uvicorn, deploy/Procfile). Django serves every URL but the two action
POST endpoints, which take the fast route of actions.edge.asgi; waiting clients (`?wait`)
hold no thread while their action runs (actions.edge.waiters)."""

import os

from django.core.asgi import get_asgi_application

from config.environments import settings_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())
django_application = get_asgi_application()  # sets Django up before the imports below

from actions.edge.asgi import with_fast_routes  # noqa: E402

application = with_fast_routes(django_application)
