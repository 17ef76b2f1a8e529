"""Settings for the `local_dev` environment."""

from .base import *  # noqa: F403

SWITCHBOARD_ENV = "local_dev"
