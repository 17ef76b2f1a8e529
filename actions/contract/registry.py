"""The index: every action Switchboard has or plans, declared once.

The registry is the schema. Each entry carries the fields of ARCHITECTURE.md section 3;
`GET /api/v1/index`, the exported contract files and the OpenAPI/AsyncAPI descriptions
are all generated from it. Registries fail loudly: a duplicate name raises at import,
an unknown name raises `UnknownAction`.

Actions are declared in `actions/catalog/<domain>.py`, one module per domain; only this
module imports the catalog. A real action is declared with `@action(...)` on its
handler; a planned one with `dummy(...)`, and its declaration is marked `# TODO`.
"""

import hashlib
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

from pydantic import BaseModel

from actions.contract.errors import ActionError, ErrorCode
from config.queues import action_queue
from release.states import State
from tenants.roles import ROLE_NAMES


class Channel(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Scope(StrEnum):
    TENANT = "tenant"  # runs in the envelope tenant's schema
    PLATFORM = "platform"  # runs in the public schema; envelope tenant is "platform"
    # The caller's own account (auth.*, system.*): sent with one of the caller's tenants,
    # or with "platform" (public schema) by anyone signed in, developers included.
    ACCOUNT = "account"


# `(ctx, payload) -> output`. The payload is an instance of the entry's input model, which
# only the registry knows at run time, so handlers are typed with their own model.
Handler = Callable[[Any, Any], BaseModel | dict[str, Any]]
H = TypeVar("H", bound=Handler)


class UnknownAction(ActionError):
    def __init__(self, name: str, version: int | None = None) -> None:
        shown = name if version is None else f"{name} v{version}"
        super().__init__(ErrorCode.UNKNOWN_ACTION, f"No action named {shown!r} in the index.")


@dataclass(frozen=True)
class ActionSpec:
    name: str
    version: int
    channel: Channel
    summary: str
    input: type[BaseModel]
    output: type[BaseModel]
    roles: tuple[str, ...]
    state: State
    handler: Handler | None = None
    scope: Scope = Scope.TENANT
    connectors: tuple[str, ...] = ()
    idempotent: bool = True
    timeout_s: int = 30
    module: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def todo(self) -> bool:
        return self.handler is None

    @property
    def queue(self) -> str:
        return action_queue(self.channel)

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        return self.input.model_json_schema()

    @cached_property
    def output_schema(self) -> dict[str, Any]:
        return self.output.model_json_schema()

    @cached_property
    def code_hash(self) -> str:
        """Hash of the code behind the entry: the release manifests pin it."""
        source = inspect.getsource(self.handler) if self.handler else "dummy"
        material = "\n".join(
            [
                source,
                repr(sorted(self.input_schema.items())),
                repr(sorted(self.output_schema.items())),
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        """The entry as published in the index."""
        return {
            "name": self.name,
            "version": self.version,
            "channel": self.channel.value,
            "scope": self.scope.value,
            "summary": self.summary,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
            "roles": list(self.roles),
            "connectors": list(self.connectors),
            "idempotent": self.idempotent,
            "timeout_s": self.timeout_s,
            "queue": self.queue,
            "state": self.state.value,
            "todo": self.todo,
        }


class Registry:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], ActionSpec] = {}

    def add(self, spec: ActionSpec) -> ActionSpec:
        _check(spec)
        if spec.key in self._entries:
            raise ValueError(f"action {spec.name} v{spec.version} is declared twice")
        self._entries[spec.key] = spec
        return spec

    def get(self, name: str, version: int | None = None) -> ActionSpec:
        if version is None:
            versions = [v for (n, v) in self._entries if n == name]
            if not versions:
                raise UnknownAction(name)
            version = max(versions)
        try:
            return self._entries[(name, version)]
        except KeyError:
            raise UnknownAction(name, version) from None

    def all(self) -> list[ActionSpec]:
        return sorted(self._entries.values(), key=lambda s: (s.name, s.version))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: str) -> bool:
        return any(n == name for (n, _) in self._entries)


_NAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"


def _check(spec: ActionSpec) -> None:
    import re

    if not re.match(_NAME_PATTERN, spec.name):
        raise ValueError(f"action name {spec.name!r} is not `domain.verb`")
    unknown = set(spec.roles) - set(ROLE_NAMES)
    if unknown or not spec.roles:
        raise ValueError(f"action {spec.name}: bad roles {sorted(unknown) or '(none)'}")
    if spec.todo != (spec.state == State.DUMMY):
        raise ValueError(f"action {spec.name}: state `dummy` if and only if it has no handler")
    for model in (spec.input, spec.output):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ValueError(f"action {spec.name}: input/output must be pydantic models")


registry = Registry()


def _declare(
    name: str,
    *,
    channel: Channel | str,
    summary: str,
    input: type[BaseModel],
    output: type[BaseModel],
    roles: Iterable[str],
    state: State | str,
    handler: Handler | None,
    module: str,
    version: int = 1,
    scope: Scope | str = Scope.TENANT,
    connectors: Iterable[str] = (),
    idempotent: bool = True,
    timeout_s: int = 30,
) -> ActionSpec:
    return registry.add(
        ActionSpec(
            name=name,
            version=version,
            channel=Channel(channel),
            summary=summary,
            input=input,
            output=output,
            roles=tuple(roles),
            state=State(state),
            handler=handler,
            scope=Scope(scope),
            connectors=tuple(connectors),
            idempotent=idempotent,
            timeout_s=timeout_s,
            module=module,
        )
    )


def action(
    name: str,
    *,
    channel: Channel | str,
    summary: str,
    input: type[BaseModel],
    output: type[BaseModel],
    roles: Iterable[str],
    state: State | str = State.UNDER_DEV,
    version: int = 1,
    scope: Scope | str = Scope.TENANT,
    connectors: Iterable[str] = (),
    idempotent: bool = True,
    timeout_s: int = 30,
) -> Callable[[H], H]:
    """Declare an implemented action; decorates its handler `(ctx, payload) -> output`."""

    def decorate(handler: H) -> H:
        _declare(
            name, channel=channel, summary=summary, input=input, output=output, roles=roles,
            state=state, handler=handler, module=handler.__module__, version=version,
            scope=scope, connectors=connectors, idempotent=idempotent, timeout_s=timeout_s,
        )  # fmt: skip
        return handler

    return decorate


def non_atomic(handler: H) -> H:
    """Run the handler outside the executor's transaction (it commits its own writes):
    for actions whose refusal must still leave a trace. Put it under `@action`."""
    handler.atomic = False  # type: ignore[attr-defined]
    return handler


def dummy(
    name: str,
    *,
    channel: Channel | str,
    summary: str,
    input: type[BaseModel],
    output: type[BaseModel],
    roles: Iterable[str],
    version: int = 1,
    scope: Scope | str = Scope.TENANT,
    connectors: Iterable[str] = (),
    idempotent: bool = True,
    timeout_s: int = 30,
) -> ActionSpec:
    """Declare a planned action: it answers `not_implemented` ("to be implemented")."""
    caller = inspect.stack()[1].frame.f_globals.get("__name__", "")
    return _declare(
        name, channel=channel, summary=summary, input=input, output=output, roles=roles,
        state=State.DUMMY, handler=None, module=caller, version=version, scope=scope,
        connectors=connectors, idempotent=idempotent, timeout_s=timeout_s,
    )  # fmt: skip


_loaded = False


def load_catalog() -> Registry:
    """Import every catalog module once (each declares its domain's actions)."""
    global _loaded
    if not _loaded:
        _loaded = True
        from actions import catalog

        for info in sorted(pkgutil.iter_modules(catalog.__path__), key=lambda m: m.name):
            importlib.import_module(f"{catalog.__name__}.{info.name}")
    return registry
