"""Settings for the `local_dev` environment."""

from config.keys import local_secret_key

from .base import *  # noqa: F403

SWITCHBOARD_ENV = environment("local_dev")  # noqa: F405
SECRET_KEY = local_secret_key(LOCAL_KEY_DIR)  # noqa: F405  (var/secret_key, made once)
# Mails (password reset, invitations) land as files under var/mail.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"  # noqa: F405
