"""Settings for the `local_test` environment."""

from typing import Any

from config.keys import local_secret_key

from .base import *  # noqa: F403

SWITCHBOARD_ENV = environment("local_test")  # noqa: F405
SECRET_KEY = local_secret_key(LOCAL_KEY_DIR)  # noqa: F405  (var/secret_key, made once)
# Parallel runs get their own database and vhost. SWITCHBOARD_DB_NAME / _BROKER_VHOST
# (exported for `make run`) are ignored here: `make test` recreates its database.
_NS = env("SWITCHBOARD_TEST_NS", "")  # noqa: F405
DATABASES["default"]["NAME"] = "switchboard_test" + (f"_{_NS}" if _NS else "")  # noqa: F405
BROKER_VHOST = "switchboard_test" + (f"_{_NS}" if _NS else "")
BROKER_URL_USER, BROKER_URL_ADMIN = broker_urls(BROKER_VHOST)  # noqa: F405
BROKER_URL_CLIENT, BROKER_URL_OPERATOR = client_urls(BROKER_VHOST)  # noqa: F405
CELERY_BROKER_URL = BROKER_URL_USER
VAR_DIR = BASE_DIR / "var" / ("test" + (f"_{_NS}" if _NS else ""))  # noqa: F405
PASSWORD_HASHERS = [  # argon2 stays first, with cheap parameters so the suite stays fast
    "tests.hashers.FastArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Own Redis key prefix per run (parallel runs must not share rate-limit counters). The
# suite sends far more than a minute's worth of the tenant config's default limits from
# one actor, so rate limits are off; the tests of the limits switch them on (and set a
# tenant's config or these settings).
_OVERRIDES: dict[str, Any] = {
    "REDIS_PREFIX": "switchboard_test" + (f"_{_NS}" if _NS else ""),
    # The spine benchmark (tests/bench) runs the stack with them on, as in production.
    "RATE_LIMITS_ENABLED": env("SWITCHBOARD_TEST_RATE_LIMITS", "0") == "1",  # noqa: F405
    # The connector tests run their providers (HTTP, SMTP) on 127.0.0.2 (loopback, named by
    # no SSRF corpus case): that one address is let past the SSRF rules here, and
    # connector retries wait milliseconds, not seconds.
    "SSRF_ALLOWED_HOSTS": ["127.0.0.2"],
    "CONNECTOR_RETRY": {"attempts": 3, "initial_s": 0.05, "max_s": 0.2, "jitter_s": 0.05},
    # Fault injection (tests/reliability): a record whose payload's `surface` is this
    # value kills its worker process, as a poison message would. Never set elsewhere.
    "TEST_CRASH_ON": env("SWITCHBOARD_TEST_CRASH_ON", ""),  # noqa: F405
}
SWITCHBOARD = SWITCHBOARD | _OVERRIDES  # noqa: F405
