"""Settings for the `local_qa` environment."""

from .base import *  # noqa: F403

SWITCHBOARD_ENV = environment("local_qa")  # noqa: F405
