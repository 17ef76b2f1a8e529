"""Settings for the `local_qa` environment."""

from config.keys import local_secret_key

from .base import *  # noqa: F403

SWITCHBOARD_ENV = environment("local_qa")  # noqa: F405
SECRET_KEY = local_secret_key(LOCAL_KEY_DIR)  # noqa: F405  (var/secret_key, made once)
