"""Settings for the `hosted_test` environment."""

from .base import *  # noqa: F403

SWITCHBOARD_ENV = "hosted_test"
import os  # noqa: E402

SECRET_KEY = os.environ["SWITCHBOARD_SECRET_KEY"]  # hosted environments must set their own
