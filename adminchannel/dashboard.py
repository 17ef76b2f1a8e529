"""The operator dashboard at `/dashboard/`: static pages whose script signs in with
`auth.login` and sends every command through the admin channel's REST endpoint
(`POST /api/v1/admin/actions`) with the JWT it got, like any other client. These views
serve the page shell only; they read no tenant data and need no sign-in (the data comes
from the actions, each of which checks the caller's roles)."""

import importlib
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from release.policy import ACCEPTED_STATES

# (path, title, who it is for: "developer", "owner" or both)
PAGES = {
    "overview": ("Overview", ("owner", "developer")),
    "index": ("Index", ("owner", "developer")),
    "tenants": ("Tenants", ("owner", "developer")),
    "logs": ("Errors & audit", ("owner", "developer")),
    "system": ("Queues & workers", ("developer",)),
    "charts": ("Charts", ("developer",)),
    "release": ("Release", ("owner", "developer")),
    "superadmin": ("Super admin", ("developer",)),
}


log = logging.getLogger(__name__)


def release_matrix() -> dict[str, dict[str, bool]] | None:
    """{"name@version": {environment: released}} from the release manifests
    (release.services.release_status, where the release package has it): the same
    repository files as the public index, not tenant data. None without it: the page then
    shows which lifecycle states each environment accepts."""
    try:
        services = importlib.import_module("release.services")
        status = services.release_status()
    except ImportError:
        return None
    except Exception:  # the page still serves; the columns fall back to the policy
        log.exception("release status unavailable for the dashboard")
        return None
    return {
        f"{row['name']}@{row['version']}": {
            env: bool(where["released"]) for env, where in row["environments"].items()
        }
        for row in status["actions"]
    }


@require_GET
def page(request: HttpRequest, name: str = "overview") -> HttpResponse:
    if name not in PAGES:
        raise Http404(name)
    config = {
        "page": name,
        "pages": [{"name": n, "title": t, "for": list(f)} for n, (t, f) in PAGES.items()],
        "environment": settings.SWITCHBOARD_ENV,
        # Which lifecycle states each environment runs (release/policy.py): the index's
        # release columns until per-environment manifests exist.
        "release_policy": {env: sorted(states) for env, states in ACCEPTED_STATES.items()},
        "release_matrix": release_matrix() if name == "index" else None,
    }
    response = render(
        request,
        "adminchannel/dashboard.html",
        {"title": PAGES[name][0], "config": config, "page": name},
    )
    # The Content-Security-Policy of every answer (settings, django-csp: own scripts and
    # styles only) holds here: the page has no inline script or style.
    response["Cache-Control"] = "no-store"
    return response
