"""Settings for the `hosted_test` environment."""

from .hosted import *  # noqa: F403

SWITCHBOARD_ENV = environment("hosted_test")  # noqa: F405
