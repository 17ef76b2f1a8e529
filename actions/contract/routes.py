"""Resource routes: the REST surface the front ends expect (seeds 002 and 004), each a
route of one action of the index.

A route is a method and a path template. Path parameters are fields of the action's
input, named as the model names them; the rest of the payload comes from the query
string (GET, DELETE) or the JSON body (POST, PUT), or, for a route with `body_field`,
the whole JSON body is that one field. The edge turns a route call into the action's
envelope (actions/edge/rest.py), so a route call and an envelope are one pipeline, one
record and one log line. This table is the one list; `check_routes` (run when the
registry loads) refuses a route whose action or path parameters do not exist.
"""

import re
from dataclasses import dataclass
from typing import Any

METHODS = ("GET", "POST", "PUT", "DELETE")
_PARAM = re.compile(r"{([a-z_][a-z0-9_]*)}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "/api/v1/leads/{id}"
    action: str
    body_field: str | None = None  # the whole JSON body is this payload field

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def reads_body(self) -> bool:
        return self.method in ("POST", "PUT")

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path}


def _r(method: str, path: str, action: str, body_field: str | None = None) -> Route:
    return Route(method, path, action, body_field)


WS = "/api/v1/workspaces/{workspace_id}"

ROUTES: tuple[Route, ...] = (
    _r("POST", "/auth/login", "auth.login"),
    _r("POST", "/auth/forgot", "auth.forgot"),
    _r("POST", "/auth/reset", "auth.reset"),
    _r("POST", "/auth/change", "auth.change_password"),
    _r("GET", "/api/v1/workspaces", "workspaces.list"),
    _r("POST", "/api/v1/workspaces", "workspaces.create"),
    _r("GET", f"{WS}/credentials", "credentials.list"),
    _r("POST", f"{WS}/credentials", "credentials.create"),
    _r("GET", f"{WS}/credentials/{{id}}", "credentials.get"),
    _r("DELETE", f"{WS}/credentials/{{id}}", "credentials.delete"),
    _r("GET", "/api/v1/providers", "providers.list"),
    _r("GET", "/api/v1/node-templates", "node_templates.list"),
    _r("POST", "/api/v1/node-templates", "node_templates.create"),
    _r("GET", f"{WS}/flows", "flows.list"),
    _r("POST", f"{WS}/flows", "flows.create"),
    _r("GET", f"{WS}/flows/{{id}}", "flows.get"),
    _r("PUT", f"{WS}/flows/{{id}}", "flows.update"),
    _r("POST", f"{WS}/flows/{{flow_id}}/runs", "runs.start"),
    _r("GET", f"{WS}/runs/{{id}}", "runs.get"),
    _r("GET", "/api/v1/leads", "leads.list"),
    _r("POST", "/api/v1/leads", "leads.create"),
    _r("GET", "/api/v1/leads/{id}", "leads.get"),
    _r("PUT", "/api/v1/leads/{id}", "leads.update"),
    _r("DELETE", "/api/v1/leads/{id}", "leads.delete"),
    _r("POST", "/api/v1/messages/send", "messages.send"),
    _r("GET", "/api/v1/automations", "automations.list"),
    _r("POST", "/api/v1/automations", "automations.create"),
    _r("PUT", "/api/v1/automations/{id}", "automations.update"),
    _r("POST", "/api/v1/automations/{id}/execute", "automations.execute"),
    _r("GET", "/api/v1/analytics/cta/export", "analytics.cta.export"),
    _r("POST", "/webhooks/{workspace}/{path}", "webhooks.ingest", body_field="body"),
)


def routes_of(action: str) -> list[Route]:
    return [route for route in ROUTES if route.action == action]


def by_path() -> dict[str, list[Route]]:
    """Routes grouped by path template, in table order (one URL, several methods)."""
    grouped: dict[str, list[Route]] = {}
    for route in ROUTES:
        grouped.setdefault(route.path, []).append(route)
    return grouped


def check_routes(fields_of, absent_ok: frozenset[str] = frozenset()) -> None:
    """Fail loudly on a route that cannot reach its action: `fields_of(name)` gives the
    action's input fields, None when the code has no such action (allowed only for the
    names in `absent_ok`: those a built artifact left out)."""
    seen: set[tuple[str, str]] = set()
    for route in ROUTES:
        if route.method not in METHODS:
            raise ValueError(f"route {route.path}: method {route.method} is not one of {METHODS}")
        if (route.method, route.path) in seen:
            raise ValueError(f"route {route.method} {route.path} is declared twice")
        seen.add((route.method, route.path))
        fields = fields_of(route.action)
        if fields is None:
            if route.action in absent_ok:
                continue
            raise ValueError(f"route {route.method} {route.path}: no action {route.action}")
        missing = [p for p in [*route.params, route.body_field] if p and p not in fields]
        if missing:
            raise ValueError(
                f"route {route.method} {route.path}: {route.action} has no input field "
                f"{', '.join(missing)}"
            )
