"""Base settings shared by every environment. Environment modules override a few names."""

import os
from pathlib import Path
from typing import Any

from celery.schedules import crontab

from config.environments import environment  # noqa: F401  (the environment modules use it)
from config.queues import MAINTENANCE_QUEUE, exchange_name, maintenance_key, task_queues

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


SWITCHBOARD_ENV = "local_dev"  # each environment module names itself (environment())
# No key in the code (config/keys.py): local environments generate one per checkout under
# var/, hosted ones take SWITCHBOARD_SECRET_KEY and refuse a weak one.
SECRET_KEY = ""
DEBUG = env("SWITCHBOARD_DEBUG", "0") == "1"  # error pages stay JSON envelopes unless set
ALLOWED_HOSTS = env("SWITCHBOARD_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")

# --- Apps: django-tenants splits shared (public schema) and per-tenant apps -----------------
SHARED_APPS = [
    # tenants before django_tenants: its `migrate_schemas` (the fast path for many tenants,
    # docs/tenancy.md) is the one manage.py finds.
    "tenants",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tenants.apps.SwitchboardAdminConfig",  # django.contrib.admin with tenant-scoped site
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc files, served offline
    "actions",  # platform-scoped action records live in the public schema
    "audit",
    "release",
    "connectors",
    "adminchannel",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "actions",  # each tenant's action records live in its own schema
    "connectors",  # each tenant's credentials and connector traces live in its own schema
]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# The tenant comes from the message envelope, never from the host name, so no
# TenantMainMiddleware: requests run in `public` and the pipeline switches schema.
PUBLIC_SCHEMA_NAME = "public"
# One `SET search_path` per connection and tenant switch instead of one per query.
TENANT_LIMIT_SET_CALLS = True
# New tenant schemas replay the DDL of a migrated template schema (tenants/schema_template.py)
# instead of running the migrations; needs pg_dump. 0: run the migrations.
TENANT_SCHEMA_REPLAY = env("SWITCHBOARD_TENANT_SCHEMA_REPLAY", "1") == "1"
# Schemas `migrate_schemas` migrates at once (processes, one connection each).
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(env("SWITCHBOARD_MIGRATE_PROCESSES", "2"))
AUTH_USER_MODEL = "tenants.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # No framing of any page (the admin's included) and a Content-Security-Policy on every
    # answer; the ASGI fast route (actions/edge/asgi.py) adds the same two headers.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]
X_FRAME_OPTIONS = "DENY"
# django-csp: the Django admin needs only its own scripts, styles and images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Database ----------------------------------------------------------------------------
DATABASES: dict[str, dict[str, Any]] = {
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": env("SWITCHBOARD_DB_NAME", "switchboard"),
        "USER": env("SWITCHBOARD_DB_USER", "postgres"),
        "PASSWORD": env("SWITCHBOARD_DB_PASSWORD", ""),
        "HOST": env("SWITCHBOARD_DB_HOST", "127.0.0.1"),
        "PORT": env("SWITCHBOARD_DB_PORT", "5432"),
        # A connection carries what PostgreSQL learnt of each tenant it served: the
        # descriptions of its tables and the plans of its prepared statements (config/db.py,
        # docs/performance.md "A thousand tenants"); closing it every minute threw that away.
        "CONN_MAX_AGE": int(env("SWITCHBOARD_DB_CONN_MAX_AGE", "600")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # A database host that drops packets fails a connection attempt after this many
            # seconds instead of the kernel's ~2 minutes (libpq waits for ever by default):
            # the edge answers `unavailable` and a worker's wait for the database stays
            # bounded.
            "connect_timeout": int(env("SWITCHBOARD_DB_CONNECT_TIMEOUT", "5")),
            # Only config/db.py prepares statements (Django binds on the client): planned
            # once per connection, not at every execution. PostgreSQL's default plans the
            # first five executions anew and then keeps planning any statement whose
            # constants make a custom plan look cheaper (the access statement's NULL token
            # id did, 0.34 ms a call); every statement prepared here looks rows up by key.
            "options": "-c plan_cache_mode=force_generic_plan",
        },
    }
}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("SWITCHBOARD_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
VAR_DIR = Path(env("SWITCHBOARD_VAR_DIR", str(BASE_DIR / "var")))
LOCAL_KEY_DIR = VAR_DIR  # where local environments keep their generated key

# --- CORS: browsers on these origins may call the API (front ends in development) -------
CORS_ALLOWED_ORIGINS = [
    origin
    for origin in env(
        "SWITCHBOARD_CORS_ORIGINS", "http://localhost:3000,http://localhost:5173"
    ).split(",")
    if origin
]
CORS_URLS_REGEX = r"^/(api/|health$)"
CORS_EXPOSE_HEADERS = ["Location", "Retry-After"]

# --- Message API ---------------------------------------------------------------------------
SWITCHBOARD: dict[str, Any] = {
    # The ASGI fast route answers the two action POST endpoints in front of Django
    # (actions/edge/asgi.py); 0 sends them through the DRF views like every other URL.
    "FAST_ROUTE": env("SWITCHBOARD_FAST_ROUTE", "1") == "1",
    "MAX_BODY_BYTES": 256 * 1024,
    "MAX_WAIT_SECONDS": 30,
    "JWT_ACCESS_TTL_SECONDS": 3600,
    "JWT_REFRESH_TTL_SECONDS": 7 * 24 * 3600,
    "JWT_ISSUER": "switchboard",
    # Records of one tenant and action published at the same moment share a task message,
    # at most this many (actions/delivery/outbox.py `together`). 1: one message each.
    "RECORDS_PER_MESSAGE": int(env("SWITCHBOARD_RECORDS_PER_MESSAGE", "4")),
    # A record stored but not published after this long is republished by the sweep.
    "OUTBOX_GRACE_SECONDS": 5,
    # How long a result's secrets (login tokens) answer a replay of the same id.
    "SECRET_REPLAY_WINDOW_SECONDS": 300,
    # Rate limits (actions/edge/ratelimit.py, docs/security.md): counters in Redis per fixed
    # window. The per-tenant and per-actor limits are the tenant config's `rate_limits`
    # (defaults in tenants/config.py DEFAULTS, nowhere else). Here only what is not per
    # tenant: `source`, anonymous REST calls (login, forgot password, webhooks) per client
    # address; `anonymous`, anonymous calls with no address (AMQP) per tenant; `refusals`,
    # refused messages (invalid, invalid payload, hostile) per address and per actor.
    "REDIS_URL": env("SWITCHBOARD_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "REDIS_PREFIX": env("SWITCHBOARD_REDIS_PREFIX", "switchboard"),
    # Requests in the pipeline at once per web process; more wait, their turns rotating
    # over senders (actions/edge/fairgate.py). 0: no turns.
    "EDGE_PIPELINE_TURNS": int(env("SWITCHBOARD_EDGE_PIPELINE_TURNS", "2")),
    # Backpressure: a REST request naming a tenant with more than this many records held
    # back for fair-scheduling slots in this web process waits
    # until the backlog is below it again (at most 5 s). 0: no backpressure.
    "EDGE_BACKLOG_LIMIT": int(env("SWITCHBOARD_EDGE_BACKLOG_LIMIT", "100")),
    # An AMQP ingress queue with more messages waiting than this is sorted into per-tenant
    # lanes (actions/edge/ingress.py; 0: never).
    "INGRESS_TRIAGE_ABOVE": int(env("SWITCHBOARD_INGRESS_TRIAGE_ABOVE", "100")),
    # The access statement's rows cached in the web and ingress processes, emptied by
    # PostgreSQL's notifications on every change (tenants/access_cache.py). 0: always ask.
    "ACCESS_CACHE": env("SWITCHBOARD_ACCESS_CACHE", "1") == "1",
    # Fair scheduling (actions/delivery/fairness.py, docs/architecture.md#fairness): per
    # channel, the most actions of one tenant published to the broker and not yet finished;
    # the rest wait in the tenant's records table and go out as slots free. 0: off (FIFO).
    "TENANT_INFLIGHT_CAP": {
        "user": int(env("SWITCHBOARD_INFLIGHT_CAP_USER", "8")),
        "admin": int(env("SWITCHBOARD_INFLIGHT_CAP_ADMIN", "8")),
    },
    # The same cap while another tenant of the channel has actions to publish (asked for
    # a slot in the last second): a tenant alone may use every worker thread, tenants
    # competing leave room for each other. 0, or not below the cap: no difference.
    "TENANT_INFLIGHT_SHARED_CAP": {
        "user": int(env("SWITCHBOARD_INFLIGHT_SHARED_CAP_USER", "1")),
        "admin": int(env("SWITCHBOARD_INFLIGHT_SHARED_CAP_ADMIN", "1")),
    },
    # A slot not freed by its worker nor by the sweep's reconcile lapses after this long.
    "INFLIGHT_SLOT_TTL_SECONDS": int(env("SWITCHBOARD_INFLIGHT_SLOT_TTL_SECONDS", "900")),
    "RATE_LIMITS_ENABLED": True,
    "RATE_LIMITS": {
        "source": {"limit": 30, "window_s": 60},
        "anonymous": {"limit": 600, "window_s": 60},
        "refusals": {"limit": 60, "window_s": 60},
        # Bytes of anonymous AMQP messages over 4 KiB, all senders together, counted before
        # they are parsed (actions/edge/ratelimit.py anonymous_amqp_admit): ~4 full bodies.
        "anonymous_bytes": {"limit": 1024 * 1024, "window_s": 60},
    },
    # Connectors (docs/connectors.md): a retryable failure (timeout, unreachable, 5xx/429)
    # is tried again up to `attempts` times in all, waiting initial_s * 2^n (at most
    # max_s) plus up to jitter_s at random.
    "CONNECTOR_RETRY": {"attempts": 3, "initial_s": 0.5, "max_s": 5.0, "jitter_s": 0.5},
    # Hosts that the SSRF rules (the guard's and the connectors') let through although
    # they would refuse them: exact host names or addresses. Empty everywhere but local_test.
    "SSRF_ALLOWED_HOSTS": [],
}
DATA_UPLOAD_MAX_MEMORY_SIZE = SWITCHBOARD["MAX_BODY_BYTES"]
# Password reset and invitation mails (tenants/accounts.py). Hosted environments set SMTP.
EMAIL_BACKEND = env("SWITCHBOARD_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env("SWITCHBOARD_FROM_EMAIL", "Switchboard <no-reply@switchboard.local>")

# --- Celery and RabbitMQ ---------------------------------------------------------------------
# Four users on one vhost (docs/operations.md): the internal user-channel login cannot
# touch the admin exchanges; outside clients get their own. deploy/preflight.py provisions
# them with rabbitmqctl. Override the URLs to use a broker provisioned elsewhere.
BROKER_HOST = env("SWITCHBOARD_BROKER_HOST", "127.0.0.1:5672")
BROKER_VHOST = env("SWITCHBOARD_BROKER_VHOST", "switchboard")
BROKER_USER_PASSWORD = env("SWITCHBOARD_BROKER_USER_PASSWORD", "switchboard-user-local")
BROKER_ADMIN_PASSWORD = env("SWITCHBOARD_BROKER_ADMIN_PASSWORD", "switchboard-admin-local")
# External AMQP clients (docs/operations.md): `client` may publish user-channel messages,
# `operator` user- and admin-channel ones; neither can read anything but its reply queue.
BROKER_CLIENT_PASSWORD = env("SWITCHBOARD_BROKER_CLIENT_PASSWORD", "switchboard-client-local")
BROKER_OPERATOR_PASSWORD = env("SWITCHBOARD_BROKER_OPERATOR_PASSWORD", "switchboard-operator-local")


def broker_urls(vhost: str) -> tuple[str, str]:
    user = env(
        "SWITCHBOARD_BROKER_URL_USER",
        f"amqp://switchboard_user:{BROKER_USER_PASSWORD}@{BROKER_HOST}/{vhost}",
    )
    admin = env(
        "SWITCHBOARD_BROKER_URL_ADMIN",
        f"amqp://switchboard_admin:{BROKER_ADMIN_PASSWORD}@{BROKER_HOST}/{vhost}",
    )
    return user, admin


def client_urls(vhost: str) -> tuple[str, str]:
    """The URLs an external AMQP client and operator connect with (tests use them too)."""
    return (
        f"amqp://switchboard_client:{BROKER_CLIENT_PASSWORD}@{BROKER_HOST}/{vhost}",
        f"amqp://switchboard_operator:{BROKER_OPERATOR_PASSWORD}@{BROKER_HOST}/{vhost}",
    )


BROKER_URL_USER, BROKER_URL_ADMIN = broker_urls(BROKER_VHOST)
BROKER_URL_CLIENT, BROKER_URL_OPERATOR = client_urls(BROKER_VHOST)
# Web, beat and the user worker connect as the user channel; the admin worker switches
# to BROKER_URL_ADMIN (actions/worker/steps.py), the web server publishes admin actions
# with it (actions/delivery/outbox.py).
CELERY_BROKER_URL = BROKER_URL_USER
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_TASK_ACKS_LATE = True
# After a lost broker connection Celery would cut the prefetch to (concurrency - tasks still
# running) and raise it back only as those tasks' acks, which cannot succeed on the dead
# connection, come in: a worker crawled at prefetch 1 for minutes after a broker restart
# (issue 12). Their messages are requeued by the broker anyway; keep the full window.
CELERY_WORKER_ENABLE_PREFETCH_COUNT_REDUCTION = False
# A dead broker connection (no RST: a partition, a frozen node) is noticed in ~2 heartbeats.
CELERY_BROKER_HEARTBEAT = 20
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True  # the action record is the result
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_DELIVERY_MODE = "persistent"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Celery's Django fix-up closes a thread's DB connections around every task unless this
# is set, and then every CELERY_DB_REUSE_MAX tasks: a new PostgreSQL connection costs
# ~15 ms (ARCHITECTURE.md section 10) and loses what the old one knew of every tenant
# (config/db.py). Never, then: every task takes its connection through
# actions.connections.TenantConnections.serving, which drops a broken one, or one older
# than CONN_MAX_AGE, first (connection_ready).
CELERY_DB_REUSE_MAX = 10**12

# Queues and exchanges are named and declared in config/queues.py (the one place); the
# outbox publishes to them, workers consume them; the AMQP ingress process declares its own.
# Classic or quorum queues (docs/reliability.md); changing it on a broker that has the
# queues already needs them deleted first (RabbitMQ refuses a redeclare of another type).
QUEUE_TYPE = env("SWITCHBOARD_QUEUE_TYPE", "classic")
CELERY_TASK_QUEUES = task_queues(QUEUE_TYPE)
CELERY_TASK_DEFAULT_QUEUE = MAINTENANCE_QUEUE
CELERY_TASK_DEFAULT_EXCHANGE = exchange_name("user")
CELERY_TASK_DEFAULT_ROUTING_KEY = maintenance_key("default")
CELERY_BEAT_SCHEDULE = {
    # Super-admin grants past their expiry are closed and audited (tenants/tasks.py).
    "superadmin-expire": {
        "task": "switchboard.maintenance.superadmin_expire",
        "schedule": 30.0,
        "options": {"queue": MAINTENANCE_QUEUE, "routing_key": maintenance_key("superadmin")},
    },
    # Secrets in finished results (login tokens) past the replay window are redacted.
    "records-purge-secrets": {
        "task": "switchboard.maintenance.records_purge_secrets",
        "schedule": 60.0,
        "options": {"queue": MAINTENANCE_QUEUE, "routing_key": maintenance_key("records")},
    },
    "outbox-sweep": {
        "task": "switchboard.maintenance.outbox_sweep",
        "schedule": 10.0,
        "options": {"queue": MAINTENANCE_QUEUE, "routing_key": maintenance_key("outbox")},
    },
    # Closes each log file under yesterday's date, removes those older than 7 days
    # (audit/rotation.py, docs/logging.md).
    "logs-rotate": {
        "task": "switchboard.maintenance.logs_rotate",
        "schedule": crontab(minute=0, hour=0),
        "options": {"queue": MAINTENANCE_QUEUE, "routing_key": maintenance_key("logs")},
    },
}
CELERY_TIMEZONE = TIME_ZONE  # "midnight" is midnight in TIME_ZONE

# --- Monitoring: `GET /metrics` (adminchannel/prometheus.py, docs/operations.md) ------------
# Set: a scrape must send `Authorization: Bearer <token>`. Empty: loopback clients only.
METRICS_TOKEN = env("SWITCHBOARD_METRICS_TOKEN", "")

# --- Logs and Sentry (audit/, docs/logging.md) -----------------------------------------------
# JSON-lines logs live under VAR_DIR/logs unless this names another directory.
SWITCHBOARD_LOGS_DIR = env("SWITCHBOARD_LOGS_DIR", "") or None
SENTRY_DSN = env("SENTRY_DSN", "")  # empty: Sentry is not initialised, nothing is sent
SENTRY_TRACES_SAMPLE_RATE = float(env("SENTRY_TRACES_SAMPLE_RATE", "0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("SWITCHBOARD_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pika": {"level": "WARNING"},  # pika logs every connection step at INFO
        # Error answers are envelopes, and real errors go to the central error log.
        "django.request": {"level": "CRITICAL"},
    },
}

# Django REST framework at the edge (actions/edge/rest.py): the pipeline authenticates and
# authorises, so DRF does neither; every error is a response envelope.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "actions.edge.rest.envelope_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
