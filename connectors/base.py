"""The connector base: what a connector declares and the four data-transformation objects
(DTOs) a call moves through.

    request DTO -outbound-> outbound payload -send-> inbound payload -response-> response DTO

`outbound` and `response` are pure (no I/O, no clock, no randomness beyond what the
request holds): `manage.py connector_replay` re-runs them from a stored trace. `send` is
the only step that talks to the outside; it raises `ConnectorFailure` with the kind of
failure, which decides whether a retry may help.
"""

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from release.states import State


class DTO(BaseModel):
    """Base of every data-transformation object: unknown keys refused, immutable.
    Mark a secret field `Field(json_schema_extra={"x-secret": True})`: traces redact it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoConfig(DTO):
    pass


class Failure:
    """Kinds of failure; `RETRYABLE` ones may succeed when tried again."""

    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # refused, reset, DNS
    SERVER = "server_error"  # 5xx, 429
    CLIENT = "client_error"  # other 4xx: the request is wrong, trying again will not help
    MALFORMED = "malformed_answer"  # an answer that does not fit the inbound DTO
    REFUSED = "refused"  # our own refusal before sending (SSRF rules, bad config)
    RETRYABLE = frozenset({TIMEOUT, UNREACHABLE, SERVER})


class ConnectorFailure(Exception):
    def __init__(self, kind: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.kind in Failure.RETRYABLE


RequestT = TypeVar("RequestT", bound=DTO)
OutboundT = TypeVar("OutboundT", bound=DTO)
InboundT = TypeVar("InboundT", bound=DTO)
ResponseT = TypeVar("ResponseT", bound=DTO)
ConfigT = TypeVar("ConfigT", bound=DTO)


@dataclass(frozen=True)
class Call(Generic[ConfigT]):
    """What `send` and `outbound` receive besides the DTO: the tenant's config for this
    connector, the secrets of its credential (never traced) and the call's timeout."""

    config: ConfigT
    secrets: dict[str, str]
    timeout_s: float
    message_id: str


class Connector(Generic[RequestT, OutboundT, InboundT, ResponseT, ConfigT]):
    """Subclass, set the class attributes, implement the three methods, and add the
    class to `connectors.catalog.CONNECTORS` (docs/connectors.md)."""

    key: ClassVar[str]
    version: ClassVar[int] = 1
    name: ClassVar[str]
    description: ClassVar[str]
    state: ClassVar[State] = State.UNDER_DEV
    # The provider whose credential it needs (its fields: `secret_fields`), or None.
    provider: ClassVar[str | None] = None
    config: ClassVar[type[DTO]] = NoConfig
    Request: ClassVar[type[DTO]]
    Outbound: ClassVar[type[DTO]]
    Inbound: ClassVar[type[DTO]]
    Response: ClassVar[type[DTO]]
    timeout_s: ClassVar[float] = 10.0

    def outbound(self, request: RequestT, call: Call[ConfigT]) -> OutboundT:
        raise NotImplementedError

    def send(self, outbound: OutboundT, call: Call[ConfigT]) -> InboundT:
        raise NotImplementedError

    def response(self, inbound: InboundT, request: RequestT) -> ResponseT:
        raise NotImplementedError

    # The credential the call uses: the config's `credential_id` when it has one.
    def credential_id(self, config: ConfigT) -> str | None:
        return getattr(config, "credential_id", None)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "key": cls.key,
            "version": cls.version,
            "name": cls.name,
            "description": cls.description,
            "state": cls.state.value,
            "provider": cls.provider,
            "config_schema": cls.config.model_json_schema(),
        }
