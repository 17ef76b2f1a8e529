"""The REST edge on Django REST framework: the action endpoints, the record, index and
health reads, the contract documents and the resource routes, all answering response
envelopes.

The views are async (adrf's APIView) so that a client waiting with `?wait` holds no
thread (actions/edge/waiters.py). They parse nothing themselves: the body is read raw and
bounded and the pipeline (actions/edge/pipeline.py) validates, authenticates and
authorises, exactly as for AMQP. The two POST endpoints are also answered in front of
Django by the ASGI fast route (actions/edge/asgi.py) unless SWITCHBOARD_FAST_ROUTE=0; both
call `gateway.post_action`, and a test sends the same requests through both.

A resource route (actions/contract/routes.py) becomes the envelope of its action: path
parameters and the query string (GET, DELETE) or the JSON body (POST, PUT) make the
payload, `X-Tenant` (or `?tenant=`) the tenant, `Idempotency-Key` the envelope id. One
view class serves every route.
"""

import asyncio
import concurrent.futures
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from adrf.views import APIView
from django.conf import settings
from django.http import Http404
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from actions.connections import tenant_connections
from actions.contract.errors import ActionError, ErrorCode, http_status_for
from actions.contract.index import asyncapi_document, index_document, openapi_document
from actions.contract.registry import Channel, Scope, registry
from actions.contract.routes import Route, by_path
from actions.edge import health
from actions.edge.gateway import (
    envelope_headers,
    error_envelope,
    in_thread,
    post_action,
    read_body,
    record_envelope,
    wait_seconds,
)
from actions.edge.pipeline import unhandled
from tenants.platform import PLATFORM

# Resource routes answer when the action finished, up to this long (then 202 + Location).
ROUTE_WAIT_S = 10.0


def _answer(env: dict, status: int) -> Response:
    return Response(env, status=status, headers=envelope_headers(env, status))


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    """Every refusal DRF itself makes (method, media type, negotiation) as an envelope."""
    if isinstance(exc, ActionError):
        err = exc
    elif isinstance(exc, exceptions.MethodNotAllowed):
        view = context.get("view")
        allowed = [m for m in (view.allowed_methods if view else []) if m != "OPTIONS"]
        err = ActionError(
            ErrorCode.INVALID_ENVELOPE, f"Use {' or '.join(allowed)} here.", http_status=405
        )
        response = _answer(error_envelope({}, err, "gateway.rest"), 405)
        response["Allow"] = ", ".join(allowed)
        return response
    elif isinstance(exc, exceptions.NotAcceptable):
        err = ActionError(ErrorCode.INVALID_ENVELOPE, "Ask for application/json.", http_status=406)
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        err = ActionError(ErrorCode.INVALID_ENVELOPE, "Send application/json.", http_status=415)
    elif isinstance(exc, exceptions.ParseError):
        err = ActionError(ErrorCode.INVALID_ENVELOPE, "The body is not valid JSON.")
    elif isinstance(exc, (exceptions.NotFound, Http404)):
        err = ActionError(ErrorCode.NOT_FOUND, "No such thing here.")
    else:
        env = unhandled("gateway.rest", {})  # 500, or 503 for a lost dependency
        return _answer(env, http_status_for(env["error"]["code"]))
    return _answer(error_envelope({}, err, "gateway.rest"), err.status)


class EnvelopeView(APIView):
    """Base of the edge's views: no DRF authentication or permission (the pipeline does
    both, for REST and AMQP alike), JSON in and out, the browsable API for people."""

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [JSONParser]  # offered by the browsable API; bodies are read raw
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    def get_exception_handler(self):
        return envelope_exception_handler


class ActionsView(EnvelopeView):
    """POST an action envelope to a channel; `?wait=N` answers when it finished."""

    channel = Channel.USER

    async def post(self, request: Request) -> Response:
        try:
            wait = wait_seconds(request.query_params.get("wait"))
            body = read_body(request._request)
        except ActionError as err:
            return _answer(await in_thread(error_envelope, {}, err, "gateway.rest"), err.status)
        env, status = await post_action(
            self.channel,
            body=body,
            wait=wait,
            authorization=request.headers.get("Authorization"),
            source=request.META.get("REMOTE_ADDR", ""),
        )
        return _answer(env, status)


class RecordView(EnvelopeView):
    """The current response envelope of a message you sent."""

    channel = Channel.USER

    async def get(self, request: Request, record_id) -> Response:
        env, status = await in_thread(
            lambda: record_envelope(
                authorization=request.headers.get("Authorization"),
                slug=request.query_params.get("tenant", ""),
                record_id=str(record_id),
                channel=self.channel,
            )
        )
        return _answer(env, status)


class IndexView(EnvelopeView):
    """The index: every action, implemented or planned, with its schemas and routes."""

    async def get(self, request: Request) -> Response:
        return Response(await in_thread(index_document))


class HealthView(EnvelopeView):
    """Database, broker, and each channel's workers and AMQP ingress."""

    async def get(self, request: Request) -> Response:
        state = await _health_report()
        return Response(state, status=200 if state["status"] == "ok" else 503)


# /health is public and one report opens three broker connections: a flood of requests
# must neither occupy the edge's threads (every action waits for one) nor make a report
# each. Reports are made on a thread of their own, one at a time, and a request that comes
# while one is being made is answered with it (a result at most one report old). The
# report in progress is a concurrent future, so that it belongs to no event loop.
_health_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health")
_health_lock = threading.Lock()
_health_running: "concurrent.futures.Future[dict] | None" = None
# A report that hangs (a broker or database that takes connections and never answers)
# answers `degraded` after this long, rather than holding every request that shares it.
HEALTH_TIMEOUT_S = 8.0  # its three broker connects time out after 2 s each


def _report_ready() -> dict:
    with tenant_connections.serving():  # a connection of the pool (checked), as the edge's
        return health.report()


def _shared_report() -> "concurrent.futures.Future[dict]":
    global _health_running
    with _health_lock:
        if _health_running is None or _health_running.done():
            _health_running = _health_pool.submit(_report_ready)
        return _health_running


async def _health_report() -> dict:
    waiting = asyncio.wrap_future(_shared_report())
    waiting.add_done_callback(_retrieved)
    try:
        # shield: a client that goes away cancels its own wait, not the report others await
        return await asyncio.wait_for(asyncio.shield(waiting), HEALTH_TIMEOUT_S)
    except TimeoutError:
        return {
            "status": "degraded",
            "failing": ["health"],
            "environment": settings.SWITCHBOARD_ENV,
            "parts": {"health": {"ok": False, "error": f"no report within {HEALTH_TIMEOUT_S} s"}},
        }


def _retrieved(waiting: asyncio.Future) -> None:
    """A report's error is not left unretrieved when every request gave up waiting."""
    if not waiting.cancelled():
        waiting.exception()


class DocumentView(EnvelopeView):
    """A contract document generated from the index (OpenAPI or AsyncAPI)."""

    renderer_classes = [JSONRenderer]
    documents = {"openapi": openapi_document, "asyncapi": asyncapi_document}
    document = "openapi"

    async def get(self, request: Request) -> Response:
        return Response(await in_thread(self.documents[self.document]))


class RouteView(EnvelopeView):
    """Every resource route: the request becomes its action's envelope."""

    routes: dict[str, Route] = {}  # method -> route, for one path (see route_views)

    async def dispatch_route(self, request: Request, **params: str) -> Response:
        route = self.routes[request.method]
        try:
            given = request.query_params.get("wait")
            wait = ROUTE_WAIT_S if given is None else wait_seconds(given)
            body = read_body(request._request) if route.reads_body else b""
            envelope = route_envelope(route, request, params, body)
        except ActionError as err:
            return _answer(await in_thread(error_envelope, {}, err, "gateway.rest"), err.status)
        env, status = await post_action(
            registry.get(route.action).channel if route.action in registry else Channel.USER,
            body=json.dumps(envelope).encode(),
            wait=wait,
            authorization=request.headers.get("Authorization"),
            source=request.META.get("REMOTE_ADDR", ""),
        )
        return _answer(env, status)

    get = post = put = delete = dispatch_route


def route_envelope(route: Route, request: Request, params: dict[str, str], body: bytes) -> dict:
    """The envelope a resource route call stands for. (An action a built artifact left out
    still gets its envelope: the pipeline answers `not_released`.)"""
    spec = registry.get(route.action) if route.action in registry else None
    payload: dict[str, Any] = {}
    if route.reads_body and body.strip():
        try:
            data = json.loads(body)
        except ValueError:
            raise ActionError(ErrorCode.INVALID_ENVELOPE, "The body is not valid JSON.") from None
        if route.body_field:
            payload[route.body_field] = data
        elif isinstance(data, dict):
            payload.update(data)
        else:
            raise ActionError(
                ErrorCode.INVALID_ENVELOPE, "The body must be a JSON object of payload fields."
            )
    elif not route.reads_body and spec is not None:
        payload.update(_query_payload(spec, request))
    for name, value in params.items():
        if name in payload and payload[name] != value:
            raise ActionError(
                ErrorCode.INVALID_ENVELOPE,
                f"`{name}` is in the path; the body may not name another.",
                details={"path": f"payload.{name}"},
            )
        payload[name] = value
    tenant = request.headers.get("X-Tenant") or request.query_params.get("tenant")
    if not tenant:
        if spec is not None and spec.scope == Scope.TENANT:
            raise ActionError(
                ErrorCode.INVALID_ENVELOPE,
                "Name the tenant: header `X-Tenant` (or `?tenant=`).",
                details={"path": "X-Tenant"},
            )
        tenant = PLATFORM
    return {
        "api": "1",
        "id": request.headers.get("Idempotency-Key") or str(uuid.uuid4()),
        "action": route.action,
        **({"version": spec.version} if spec is not None else {}),
        "tenant": tenant,
        "payload": payload,
    }


# Query-string words that are not payload fields.
_CONTROL = {"wait", "tenant", "format"}


def _query_payload(spec, request: Request) -> dict[str, Any]:
    """Query values are strings: each is read as the type the action's schema gives its
    field (integer, number, boolean), so `?limit=20` is the integer 20. Anything else is
    left as sent, and the payload model refuses what does not fit."""
    properties = spec.input_schema.get("properties", {})
    payload: dict[str, Any] = {}
    for name, values in request.query_params.lists():
        if name in _CONTROL:
            continue
        value = values[-1]
        kinds = _types(properties.get(name, {}))
        payload[name] = _typed(value, kinds)
    return payload


def _types(schema: dict) -> set[str]:
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set()
    for option in schema.get("anyOf", []):
        found |= _types(option)
    return found


def _typed(value: str, kinds: set[str]) -> Any:
    if "integer" in kinds and value.lstrip("-").isdigit():
        return int(value)
    if "number" in kinds:
        try:
            number = float(value)
        except ValueError:
            return value
        if number == number and number not in (float("inf"), float("-inf")):
            return number
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def route_views() -> list[tuple[str, Any]]:
    """(Django path, view) for every path of the route table."""
    views = []
    for path, routes in by_path().items():
        django_path = path.lstrip("/").replace("{", "<str:").replace("}", ">")
        view = RouteView.as_view(
            routes={r.method: r for r in routes},
            http_method_names=[r.method.lower() for r in routes] + ["options"],
        )
        views.append((django_path, view))
    return views
