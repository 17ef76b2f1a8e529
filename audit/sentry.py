"""Sentry, when `SENTRY_DSN` is set: the Django and Celery integrations, secrets scrubbed.

Without a DSN nothing is initialised and nothing is sent. Errors the pipeline catches
(it answers `internal_error` instead of raising) are sent by `audit.error_log.
error_record`, tagged with the tenant and action; the logger it also writes to is
ignored here so that no error is sent twice.
"""

from sentry_sdk.types import Event, Hint

from audit.summaries import scrub

_initialised = False


def init_from_settings() -> bool:
    """Initialise sentry-sdk once per process if settings name a DSN. True if active."""
    global _initialised
    from django.conf import settings

    dsn = getattr(settings, "SENTRY_DSN", "")
    if not dsn or _initialised:
        return _initialised
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import ignore_logger

    sentry_sdk.init(
        dsn=dsn,
        environment=settings.SWITCHBOARD_ENV,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,  # no cookies, headers with credentials, user IPs
        include_local_variables=False,  # locals hold payloads and secrets
        before_send=before_send,
        traces_sample_rate=float(getattr(settings, "SENTRY_TRACES_SAMPLE_RATE", 0.0)),
    )
    ignore_logger("switchboard.errors")
    _initialised = True
    return True


def active() -> bool:
    return _initialised


def before_send(event: Event, hint: Hint | None = None) -> Event:
    """Redact secret keys and token-like text everywhere in the event."""
    return scrub(event)


def capture(*, exception: BaseException | None, message: str, tags: dict[str, str | None]) -> None:
    """Send one error, tagged; only called when `active()`."""
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        for key, value in tags.items():
            if value:
                scope.set_tag(key, value)
        if exception is not None:
            sentry_sdk.capture_exception(exception)
        else:
            sentry_sdk.capture_message(message, level="error")
