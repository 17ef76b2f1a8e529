"""Settings for the `local_dev` environment."""

from .base import *  # noqa: F403

SWITCHBOARD_ENV = environment("local_dev")  # noqa: F405
# Mails (password reset, invitations) land as files under var/mail.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"  # noqa: F405
