"""Settings for the `hosted_live` environment."""

from .hosted import *  # noqa: F403

SWITCHBOARD_ENV = environment("hosted_live")  # noqa: F405
