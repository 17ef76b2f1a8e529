"""Shapes shared by the system.* admin actions."""

from typing import Annotated

from pydantic import StringConstraints

QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,200}$", max_length=200)]
