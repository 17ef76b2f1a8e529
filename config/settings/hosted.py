"""What every hosted environment adds to base.py: no local default for any secret."""

import os

from config.keys import hosted_secret_key

from .base import *  # noqa: F403

SECRET_KEY = hosted_secret_key()  # set, and not weak: the process stops otherwise
# No fallback to base.py's local broker passwords: base.py built the broker URLs from
# these variables already; here their absence stops the process at start-up.
for _name in (
    "SWITCHBOARD_BROKER_USER_PASSWORD",
    "SWITCHBOARD_BROKER_ADMIN_PASSWORD",
    "SWITCHBOARD_BROKER_CLIENT_PASSWORD",
    "SWITCHBOARD_BROKER_OPERATOR_PASSWORD",
):
    if not os.environ.get(_name):
        raise KeyError(f"{_name} must be set in hosted environments")

# Credentials are sealed with a key-encryption key (connectors/crypto.py): a hosted
# environment never generates one, and does not start without it.
if not (os.environ.get("SWITCHBOARD_KEK") or os.environ.get("SWITCHBOARD_KEK_FILE")):
    raise KeyError("SWITCHBOARD_KEK or SWITCHBOARD_KEK_FILE must be set in hosted environments")

# HTTPS only (`manage.py check --deploy` is clean; tests/unit/test_security_settings.py).
# Behind a proxy that terminates TLS, set SWITCHBOARD_PROXY_SSL_HEADER=1: the proxy's
# X-Forwarded-Proto then says whether the request came over https (the proxy must set it).
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # load balancers probe over plain http
if os.environ.get("SWITCHBOARD_PROXY_SSL_HEADER", "0") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SWITCHBOARD_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
