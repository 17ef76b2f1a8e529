"""Shapes shared by the catalog modules: list results, time windows, common field types."""

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from actions.contract.payloads import Email, ObjectId, Page, PageInfo, Payload, Result

# Longest list any single answer or request carries (matches Page.limit's upper bound).
MAX_ITEMS = 200

# Names of actions as the index spells them (`domain.verb`, see actions.contract.registry).
ActionName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100)
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ().-]{2,31}$", max_length=32)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]  # ISO 4217 code
CodeHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
IdList = Annotated[list[ObjectId], Field(min_length=1, max_length=MAX_ITEMS)]

# Closed vocabularies of the platform, spelled as JSON Schema enums (plain string
# Literals, not the enums, so that the published schemas stay inline `enum` lists).
# Written out so that a type checker can read them; a unit test keeps each equal to its
# source enum (release.states.State, actions.contract.errors.ErrorCode,
# tenants.roles.MembershipRole).
ActionState = Literal[
    "dummy",
    "erroring",
    "under_dev",
    "potential_release",
    "under_user_test",
    "released",
    "reverted",
]
ErrorCodeName = Literal[
    "invalid_envelope",
    "validation_error",
    "rejected_input",
    "unauthenticated",
    "forbidden",
    "unknown_action",
    "not_released",
    "not_implemented",
    "not_subscribed",
    "connector_error",
    "rate_limited",
    "not_found",
    "conflict",
    "timeout",
    "unavailable",
    "internal_error",
]
ChannelName = Literal["user", "admin"]
Environment = Literal["local_dev", "local_test", "local_qa", "hosted_test", "hosted_live"]
ResponseStatus = Literal["ok", "error", "pending"]
TenantRole = Literal["member", "owner", "primary_owner"]
# Things of a tenant that feeds and notifications point at.
SubjectType = Literal[
    "lead", "conversation", "message", "automation", "flow", "run", "invoice", "workspace"
]

T = TypeVar("T")


def omittable(**constraints: Any) -> Any:
    """The default of an update field that may be left out but not sent as null: left
    out, it is None (defaults are not validated) and `model_dump(exclude_unset=True)`
    leaves it out; sent as null, it is refused, and the published schema says so.

    Typed Any on purpose: the field keeps its non-nullable type, the one the schema
    publishes; read such a field only after checking that it was set."""
    return Field(default=None, **constraints)


class ById(Payload):
    """Names one object of the tenant by its id."""

    id: ObjectId


class ListResult(Result, Generic[T]):
    """One page of a list action: subclass as `class LeadList(ListResult[Lead])`."""

    items: list[T] = Field(max_length=MAX_ITEMS)
    page: PageInfo


class TimeWindow(Payload):
    """An optional time window; `since` is inclusive, `until` exclusive, both with a zone."""

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.since and self.until and self.since >= self.until:
            raise ValueError("`since` must be before `until`")
        return self


# The filters every log query shares (logs.*.query, audit.admin.query extend it). No
# docstring: it would become the published schema's description.
class LogQuery(Page, TimeWindow):
    action: ActionName | None = None
    actor: Email | None = None
    status: ResponseStatus | None = None
    code: ErrorCodeName | None = None
