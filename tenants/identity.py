"""Who is calling: the actor, derived from a credential, never from a message body."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    id: int
    email: str
    is_developer: bool = False
    token_id: str = ""
