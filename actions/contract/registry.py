"""The index: every action Switchboard has or plans, declared once.

The registry is the schema. Each entry carries the fields of ARCHITECTURE.md section 3;
`GET /api/v1/index`, the exported contract files and the OpenAPI/AsyncAPI descriptions
are all generated from it. Registries fail loudly: a duplicate name raises at import,
an unknown name raises `UnknownAction`.

Each action is declared in a file of its own, named after it, in its domain's package:
`leads.create` in `actions/catalog/leads/leads_create.py`, an admin-channel action such as
`tenants.create` in `adminchannel/actions/tenants/tenants_create.py`. Models shared by
several actions of a domain live in the domain's `_models.py`, shapes shared by domains in
`actions/catalog/_common.py`. Only this module imports the two packages, and it walks them
(`load_catalog`): a file that declares no action, two actions, an action named otherwise
than the file, in another domain's package or on the other channel's side fails at import.
A real action is declared with `@action(...)` on its handler; a planned one with
`dummy(...)`, and its declaration is marked `# TODO`. An action's tests live in
`tests/actions/<domain>/test_<stem>.py` (`tests/adminchannel/...` for the admin channel).
"""

import dataclasses
import importlib
import inspect
import json
import pkgutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from actions.contract.errors import ActionError, ErrorCode
from actions.contract.routes import check_routes, routes_of
from config.environments import ARTIFACT_FILE
from config.queues import action_queue
from release import lifecycle
from release.manifests import pin
from release.states import State
from tenants.roles import ROLE_NAMES

# The repository's root: an action's `path` and `test_path` are relative to it.
ROOT = Path(__file__).resolve().parents[2]


class Channel(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Scope(StrEnum):
    TENANT = "tenant"  # runs in the envelope tenant's schema
    PLATFORM = "platform"  # runs in the public schema; envelope tenant is "platform"
    # The caller's own account (auth.*, system.*): sent with one of the caller's tenants,
    # or with "platform" (public schema) by anyone signed in, developers included.
    ACCOUNT = "account"


# The packages that hold the actions, one file per action (see the module's docstring),
# with the channel each serves and where the tests of its actions live.
PACKAGES = {"actions.catalog": Channel.USER, "adminchannel.actions": Channel.ADMIN}
TEST_DIRS = {"actions.catalog": "tests/actions", "adminchannel.actions": "tests/adminchannel"}


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
    path: str = ""  # its file, relative to the repository's root (the release tooling hashes it)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def todo(self) -> bool:
        return self.handler is None

    @property
    def stem(self) -> str:
        """The name of its file and of its test file: `leads.create` -> `leads_create`."""
        return self.name.replace(".", "_")

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def expected_test_path(self) -> str:
        """Where its tests live by convention, relative to the repository's root."""
        package = "adminchannel.actions" if self.channel == Channel.ADMIN else "actions.catalog"
        return f"{TEST_DIRS[package]}/{self.domain}/test_{self.stem}.py"

    @property
    def test_path(self) -> str | None:
        """Its test file, relative to the repository's root; None when there is none."""
        path = self.expected_test_path
        return path if (ROOT / path).is_file() else None

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
        """Hash of its file and its schemas: what the release manifests pin."""
        source = (ROOT / self.path).read_bytes() if self.path else b""
        return pin(source=source, input_schema=self.input_schema, output_schema=self.output_schema)

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
            "routes": [route.describe() for route in routes_of(self.name)],
        }


class Registry:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], ActionSpec] = {}
        # name -> its newest version: `get` without a version runs for every message, on
        # the web and on the worker (a scan of every entry took 2 % of the web's CPU).
        self._newest: dict[str, int] = {}

    def add(self, spec: ActionSpec) -> ActionSpec:
        _check(spec)
        if spec.key in self._entries:
            raise ValueError(f"action {spec.name} v{spec.version} is declared twice")
        self._entries[spec.key] = spec
        self._newest[spec.name] = max(spec.version, self._newest.get(spec.name, spec.version))
        return spec

    def remove(self, name: str, version: int) -> None:
        """Forget one entry (tests that declare an action of their own)."""
        del self._entries[(name, version)]
        versions = [v for (n, v) in self._entries if n == name]
        if versions:
            self._newest[name] = max(versions)
        else:
            del self._newest[name]

    def get(self, name: str, version: int | None = None) -> ActionSpec:
        if version is None:
            version = self._newest.get(name)
            if version is None:
                raise UnknownAction(name)
        try:
            return self._entries[(name, version)]
        except KeyError:
            raise UnknownAction(name, version) from None

    def all(self) -> list[ActionSpec]:
        return sorted(self._entries.values(), key=lambda s: (s.name, s.version))

    def apply_states(self, stored: dict[str, State]) -> None:
        """Each entry takes its stored lifecycle state (release/lifecycle.py)."""
        for key, spec in self._entries.items():
            state = lifecycle.effective_state(
                declared=spec.state, stored=stored.get(lifecycle.key(*key)), todo=spec.todo
            )
            if state != spec.state:
                self._entries[key] = dataclasses.replace(spec, state=state)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._newest


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
            path=_path_of(module),
        )
    )


def _path_of(module: str) -> str:
    """The file of a module being imported, relative to the repository's root."""
    file = getattr(sys.modules.get(module), "__file__", None)
    if not file:
        return ""
    path = Path(file).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


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


def discover(packages: dict[str, Channel], into: Registry) -> list[str]:
    """Import every module under `packages` (recursively) and check the layout: each
    module whose name does not start with `_` declares exactly one action (one or more
    versions of it), named after the module (`leads.create` in `leads_create.py`), in its
    domain's package (`<package>.leads`), on the package's channel; modules starting with
    `_` (`_models`, `_common`) and packages declare none. Returns the action modules."""
    action_modules: list[str] = []
    for name in packages:
        infos = pkgutil.walk_packages(importlib.import_module(name).__path__, prefix=f"{name}.")
        for info in sorted(infos, key=lambda m: m.name):
            importlib.import_module(info.name)
            if not info.ispkg and not info.name.rsplit(".", 1)[1].startswith("_"):
                action_modules.append(info.name)
    by_module: dict[str, set[str]] = {}
    for spec in into.all():
        by_module.setdefault(spec.module, set()).add(spec.name)
    for module in action_modules:
        names = by_module.pop(module, set())
        if not names:
            raise LayoutError(f"{module} declares no action (one action per file)")
        if len(names) > 1:
            raise LayoutError(f"{module} declares {sorted(names)}: one action per file")
        (action_name,) = names
        spec = into.get(action_name)
        parent, domain, stem = module.rsplit(".", 2)
        if stem != spec.stem:
            raise LayoutError(f"{action_name} must be declared in {spec.stem}.py, not {module}")
        if domain != spec.domain:
            raise LayoutError(f"{action_name} belongs in package {parent}.{spec.domain}")
        if packages.get(parent) != spec.channel:
            raise LayoutError(f"{action_name} ({spec.channel} channel) is not in {parent}")
    for module, names in by_module.items():
        if module.startswith(tuple(f"{p}." for p in packages)):
            raise LayoutError(f"{module} declares {sorted(names)}: only action files may")
    return action_modules


class LayoutError(ImportError):
    """The action packages break the one-action-per-file layout."""


def _input_fields(name: str) -> dict[str, Any] | None:
    return registry.get(name).input.model_fields if name in registry else None


def _withheld() -> frozenset[str]:
    """The actions a built artifact left out (release/artifact.py): their routes stay and
    answer `not_released`, as the actions do."""
    if not ARTIFACT_FILE.is_file():
        return frozenset()
    return frozenset(json.loads(ARTIFACT_FILE.read_text())["withheld"])


def load_catalog() -> Registry:
    """Import every action file once (each declares one action), checking the layout."""
    global _loaded
    if not _loaded:
        _loaded = True
        discover(PACKAGES, registry)
        registry.apply_states(lifecycle.stored_states())
        check_routes(_input_fields, absent_ok=_withheld())
    return registry
