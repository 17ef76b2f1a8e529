"""The operator dashboard at `/dashboard/`: static pages whose script signs in with
`auth.login` and sends every command through the admin channel's REST endpoint
(`POST /api/v1/admin/actions`) with the JWT it got, like any other client. These views
serve the page shell only; they read no tenant data and need no sign-in (the data comes
from the actions, each of which checks the caller's roles)."""

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
    }
    response = render(
        request,
        "adminchannel/dashboard.html",
        {"title": PAGES[name][0], "config": config, "page": name},
    )
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return response
