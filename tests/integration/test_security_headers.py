"""Issue 13, finding 4: X-Frame-Options and a Content-Security-Policy on the admin (and on
every Django answer), and the same headers, HTTPS redirect included, on the ASGI fast route."""

import json

from django.test import Client

from tests.conftest import envelope
from tests.integration.test_asgi_route import call

SECURITY = ("x-frame-options", "content-security-policy", "x-content-type-options")


def test_admin_pages_carry_x_frame_options_and_a_csp():
    browser = Client()
    for path in ("/admin/login/", "/admin/"):
        answer = browser.get(path)
        assert answer["X-Frame-Options"] == "DENY", path
        policy = answer["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert "'unsafe-inline'" not in policy
    page = browser.get("/admin/login/")
    assert page.status_code == 200  # the admin still renders under the policy


def test_the_fast_route_adds_the_same_security_headers_as_django():
    # A refusal at the edge: the fast route answers it (no worker needed).
    status, fast, body = call("/api/v1/actions", json.dumps(envelope("leads.create")).encode())
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    status, django, _ = call("/health", method="GET")  # through Django's middleware
    for name in SECURITY:
        assert name in django, name
        assert fast.get(name) == django[name], name


def test_the_fast_route_redirects_to_https_when_hosted_settings_ask(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    body = json.dumps(envelope("leads.create")).encode()
    status, headers, _ = call("/api/v1/actions", body, query=b"wait=1")
    assert status == 301
    assert headers["location"] == "https://localhost/api/v1/actions?wait=1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    status, headers, _ = call("/api/v1/actions", body, headers={"x-forwarded-proto": "https"})
    assert status == 401  # served, over https (as the trusted proxy says)
    assert headers["strict-transport-security"] == "max-age=3600"


def test_the_fast_route_follows_a_changed_setting(settings):
    """Its headers are made once per process, and made again when a setting changes."""
    body = json.dumps(envelope("leads.create")).encode()
    _, before, _ = call("/api/v1/actions", body)
    assert before["x-frame-options"] == "DENY"
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"
    _, after, _ = call("/api/v1/actions", body)
    assert after["x-frame-options"] == "SAMEORIGIN"
