"""The action endpoints' fast route: `POST /api/v1/actions` and `POST /api/v1/admin/actions`
answered by ASGI in front of Django, everything else by Django.

Why: those two endpoints are the hot path, and Django's request cycle around a view
(request signals run on a new thread per request, eight middlewares for sessions, CSRF,
messages and the admin) cost more CPU per action than the pipeline itself (measured in
docs/performance.md). The endpoints need none of that: no cookies, no sessions, no CSRF
(bearer tokens only). What they do need from the middleware is kept here, from the same
settings: the host check (ALLOWED_HOSTS), the HTTPS redirect and security headers of
SecurityMiddleware, X-Frame-Options (XFrameOptionsMiddleware), the Content-Security-Policy
(django-csp's CSPMiddleware), and CORS for the configured origins. The answers are those
of the Django views (actions.edge.gateway.post_action serves both), which the test client
still exercises.
"""

import functools
import json
import re
from urllib.parse import parse_qs

from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host

from actions.contract.errors import ActionError, ErrorCode, http_status_for
from actions.contract.registry import Channel
from actions.edge.gateway import envelope_headers, error_envelope, in_thread, post_action, too_large
from actions.edge.gateway import wait_seconds as parse_wait
from actions.edge.pipeline import unhandled

ROUTES = {"/api/v1/actions": Channel.USER, "/api/v1/admin/actions": Channel.ADMIN}


def with_fast_routes(django_app):
    """Wrap Django's ASGI application with the fast route."""

    if not settings.SWITCHBOARD.get("FAST_ROUTE", True):
        return django_app

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in ROUTES:
            await _post(scope, receive, send, ROUTES[scope["path"]])
        else:
            await django_app(scope, receive, send)

    return app


async def _post(scope, receive, send, channel: Channel) -> None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    status = 500
    secure = _is_secure(scope, headers)
    if settings.SECURE_SSL_REDIRECT and not secure:
        await _redirect_to_https(send, scope, headers)
        return
    try:
        _check_host(headers.get("host", ""))
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        wait = parse_wait(query["wait"][-1] if "wait" in query else None)
        body = await _read_body(receive, headers)
        env, status = await post_action(
            channel,
            body=body,
            wait=wait,
            authorization=headers.get("authorization"),
            source=(scope.get("client") or ("",))[0],
        )
    except ActionError as err:
        env, status = await in_thread(error_envelope, {}, err, "gateway.rest"), err.status
    except ConnectionAbortedError:
        return  # the client went away while sending: nobody to answer, nothing to log
    except Exception:
        # Here, not on a pool thread: the error log takes the stack from sys.exc_info().
        env = unhandled("gateway.rest", {})
        status = http_status_for(env["error"]["code"])  # 500, or 503 for a lost dependency
    await _respond(send, status, env, headers.get("origin"), scope, secure)


def _check_host(host: str) -> None:
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        raise ActionError(ErrorCode.INVALID_ENVELOPE, "Bad request.")


async def _read_body(receive, headers: dict) -> bytes:
    limit = settings.SWITCHBOARD["MAX_BODY_BYTES"]
    try:
        declared = int(headers.get("content-length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large()
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(
    send, status: int, env: dict, origin: str | None, scope, secure: bool | None = None
) -> None:
    body = json.dumps(env).encode()
    if secure is None:
        secure = _is_secure(scope, headers_of(scope))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *_security_headers(secure=secure),
        *_cors_headers(origin, scope["path"]),
        *((k.lower().encode(), v.encode()) for k, v in envelope_headers(env, status).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def headers_of(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _is_secure(scope, headers: dict[str, str]) -> bool:
    """HttpRequest.is_secure(): the scheme, or the trusted proxy's header when configured."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name, value = proxy
        header = name.removeprefix("HTTP_").replace("_", "-").lower()
        if header in headers:
            return headers[header].split(",", 1)[0].strip() == value
    return scope.get("scheme") == "https"


async def _redirect_to_https(send, scope, headers: dict[str, str]) -> None:
    """SecurityMiddleware's SSL redirect (SECURE_SSL_REDIRECT; the action endpoints are never
    in SECURE_REDIRECT_EXEMPT), on a host ALLOWED_HOSTS admits."""
    host = settings.SECURE_SSL_HOST or headers.get("host", "")
    try:
        _check_host(headers.get("host", ""))
    except ActionError as err:
        env = await in_thread(error_envelope, {}, err, "gateway.rest")
        await _respond(send, err.status, env, None, scope)
        return
    query = scope.get("query_string", b"").decode("latin-1")
    location = f"https://{host}{scope['path']}" + (f"?{query}" if query else "")
    await send(
        {
            "type": "http.response.start",
            "status": 301,
            "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


@functools.cache
def _security_headers(*, secure: bool) -> tuple[tuple[bytes, bytes], ...]:
    """What SecurityMiddleware, XFrameOptionsMiddleware and CSPMiddleware add to an answer:
    made from the settings once per process (and again when a setting changes, which
    only tests do), not for every answer (django-csp's policy took 2 % of the web's CPU)."""
    out = []
    if "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE:
        out.append((b"x-frame-options", settings.X_FRAME_OPTIONS.upper().encode()))
    if "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE:
        policy = build_policy()
        if policy:
            out.append((b"content-security-policy", policy.encode()))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        out.append((b"x-content-type-options", b"nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        if not isinstance(policy, str):
            policy = ",".join(policy)
        out.append((b"referrer-policy", policy.encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        coop = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        out.append((b"cross-origin-opener-policy", coop.encode()))
    if settings.SECURE_HSTS_SECONDS and secure:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        out.append((b"strict-transport-security", value.encode()))
    return tuple(out)


@receiver(setting_changed)
def _forget_security_headers(**_kwargs) -> None:
    _security_headers.cache_clear()


def _cors_headers(origin: str | None, path: str) -> list[tuple[bytes, bytes]]:
    """What corsheaders answers a simple (non-preflight) request from an allowed origin;
    preflight OPTIONS requests go to Django and corsheaders itself."""
    allowed = origin in settings.CORS_ALLOWED_ORIGINS
    if not origin or not allowed or not re.match(settings.CORS_URLS_REGEX, path):
        return [(b"vary", b"origin")]
    return [
        (b"access-control-allow-origin", origin.encode()),
        (b"access-control-expose-headers", ", ".join(settings.CORS_EXPOSE_HEADERS).encode()),
        (b"vary", b"origin"),
    ]
