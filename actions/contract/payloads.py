"""Building blocks for action input and output models.

Every action declares a pydantic model for its payload and one for its result; the
published JSON Schemas are generated from them. Models refuse unknown keys and every
string and list is bounded. Two field markers feed the pipeline through the schema:
`x-secret` (redacted from records and logs) and `x-free-text` (free prose: checked by
the guard's free-text rules instead of the identifier rules).

A message's payload is read strictly (`from_message`): the JSON types the schema
publishes and no others (no `"50"` or `true` for an integer, no `"true"` for a boolean),
and no NaN/Infinity anywhere (Python's JSON reader accepts them; JSON has no such numbers).
"""

import json
import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# Safe identifiers: slugs, names of things, ids.
# (max_length repeats the pattern's bound so the published schema states it plainly.)
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", max_length=63)]
ObjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$", max_length=64)]
TenantSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$", max_length=40)]
Email = Annotated[
    str,
    StringConstraints(
        pattern=r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$", max_length=254
    ),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Url = Annotated[
    str,
    StringConstraints(pattern=r"^https?://", max_length=2048),
    Field(json_schema_extra={"format": "uri", "x-url": True}),
]
Secret = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1024),
    Field(json_schema_extra={"x-secret": True}),
]
FreeText = Annotated[
    str, StringConstraints(max_length=20_000), Field(json_schema_extra={"x-free-text": True})
]
Timestamp = datetime


def _finite(value: Any) -> Any:
    """Refuse NaN and +-Infinity anywhere in an open value (they would be stored as null)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("NaN and Infinity are not JSON numbers")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


# Keys as long as the guard allows (actions/guard: 128 characters).
JsonObject = Annotated[
    dict[Annotated[str, StringConstraints(max_length=128)], Any],
    Field(json_schema_extra={"maxProperties": 200}),
    AfterValidator(_finite),
]


class Payload(BaseModel):
    """Base of every action input: unknown keys are refused, strings bounded."""

    model_config = ConfigDict(
        extra="forbid", str_max_length=20_000, frozen=True, allow_inf_nan=False
    )


# In a validator's `info.context` when the payload is read from a message at the edge.
FROM_MESSAGE = "switchboard_from_message"


def from_message(model: type[BaseModel], data: Any) -> BaseModel:
    """A message's payload as `model`, in pydantic's strict mode with JSON input: each field
    takes only the JSON type its schema publishes (`"50"` and `true` are not integers), while
    ISO dates and enum values still read as JSON carries them. Step 5 of the pipeline;
    the worker re-reads its stored, already checked payload with plain `model_validate`."""
    return model.model_validate_json(
        json.dumps(data, allow_nan=True), strict=True, context={FROM_MESSAGE: True}
    )


class Result(BaseModel):
    """Base of every action output."""

    model_config = ConfigDict(extra="forbid")


class Empty(Payload):
    """No fields."""


class Page(Payload):
    """Pagination for list actions: newest first."""

    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class PageInfo(Result):
    next_cursor: str | None = None


class Deleted(Result):
    id: str
    deleted: bool = True
