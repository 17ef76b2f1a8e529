"""ASGI entry point (uvicorn, deploy/Procfile). Django serves every URL but the two action
POST endpoints, which take the fast route of actions.edge.asgi; waiting clients (`?wait`)
hold no thread while their action runs (actions.edge.waiters)."""

import asyncio
import os

from django.core.asgi import get_asgi_application

from config.environments import settings_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())
django_application = get_asgi_application()  # sets Django up before the imports below

from actions.connections import tenant_connections  # noqa: E402
from actions.edge.asgi import with_fast_routes  # noqa: E402
from actions.edge.gateway import EDGE_THREADS  # noqa: E402
from tenants import access_cache  # noqa: E402


def with_lifespan(app):
    """The process's own services, started by the ASGI lifespan (uvicorn sends it; an
    in-process test calling the application does not): the access cache's listener
    (tenants/access_cache.py), which this web process serves its requests from, and one
    database connection per edge thread kept for the tenants it serves
    (actions.connections.TenantConnections)."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                access_cache.start()
                tenant_connections.configure(EDGE_THREADS)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Django closes a connection from a thread only (async_unsafe).
                await asyncio.get_running_loop().run_in_executor(None, tenant_connections.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped


application = with_lifespan(with_fast_routes(django_application))
