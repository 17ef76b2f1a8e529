"""The tenant's global config: overrides validated against a published JSON Schema
(Draft 2020-12, unknown keys refused) and deep-merged over the platform defaults.

A tenant stores only its overrides (`Tenant.config`); every change is kept as a
`TenantConfigVersion`. Readers (whitelabel, rate limits, user-facing messages) call
`config_effective(tenant=...)` (or `config_section` for one section of it) and never read
`Tenant.config` directly; `user_message` reads the overrides alone, by design.
"""

import copy
import functools
import re
import zoneinfo
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_ID = "https://switchboard.local/contract/tenant-config.schema.json"
_COLOUR = {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
# Prose shown to people: the guard checks it with its free-text rules (apostrophes,
# semicolons and "select" are fine there).
_MESSAGE = {"type": "string", "minLength": 1, "maxLength": 500, "x-free-text": True}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties, **extra}


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Tenant config overrides",
    "description": "What a tenant may override; omitted keys take the platform defaults.",
    **_object(
        {
            "branding": _object(
                {
                    "brand_name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 100,
                        "x-free-text": True,
                    },
                    "primary_colour": _COLOUR,
                    "secondary_colour": _COLOUR,
                    "logo_url": {
                        "type": "string",
                        "format": "uri",
                        "pattern": "^https://",
                        "maxLength": 2048,
                    },
                    "support_email": {
                        "type": "string",
                        "format": "email",
                        "pattern": "^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,24}$",
                        "maxLength": 254,
                    },
                    # `format: uri`: the guard's URL rules (SSRF) apply, as to logo_url.
                    "support_url": {
                        "type": "string",
                        "format": "uri",
                        "pattern": "^https://",
                        "maxLength": 2048,
                    },
                }
            ),
            # User-facing texts that replace the platform's default `user_message` of an
            # error code (actions.contract.errors.ERROR_TABLE), e.g. the text shown for
            # not_subscribed.
            "messages": _object(
                {
                    code: _MESSAGE
                    for code in (
                        "not_subscribed",
                        "forbidden",
                        "rate_limited",
                        "not_implemented",
                        "connector_error",
                        "internal_error",
                        "timeout",
                        "unavailable",
                    )
                }
            ),
            "rate_limits": _object(
                {
                    "per_tenant_per_minute": {"type": "integer", "minimum": 1, "maximum": 100000},
                    "per_actor_per_minute": {"type": "integer", "minimum": 1, "maximum": 10000},
                }
            ),
            "locale": _object(
                {
                    "language": {"type": "string", "pattern": "^[a-z]{2}(-[A-Z]{2})?$"},
                    "time_zone": {"type": "string", "minLength": 1, "maxLength": 64},
                }
            ),
        }
    ),
}

DEFAULTS: dict[str, Any] = {
    "branding": {
        "brand_name": "Switchboard",
        "primary_colour": "#1f6feb",
        "secondary_colour": "#0d1117",
        "logo_url": None,
        "support_email": "support@switchboard.local",
        "support_url": None,
    },
    "messages": {
        "not_subscribed": "Your organisation has not subscribed to this.",
        "forbidden": "You are not allowed to do this.",
        "rate_limited": "Too many requests; please try again shortly.",
        "not_implemented": "This function is coming soon.",
        "connector_error": "An outside service did not answer as expected.",
        "internal_error": "Something went wrong on our side.",
        "timeout": "This took too long; please try again.",
        "unavailable": "The service is briefly unavailable; please try again.",
    },
    "rate_limits": {"per_tenant_per_minute": 600, "per_actor_per_minute": 120},
    "locale": {"language": "en", "time_zone": "UTC"},
}

_validator = Draft202012Validator(SCHEMA)


class ConfigInvalid(ValueError):
    """The overrides do not fit the schema; `errors` lists `{path, reason}` per fault."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['reason']}" for e in errors))
        self.errors = errors


def _shown(key: str) -> str:
    """A client's key, or `(key)` when it is not a plain name: refusals never echo input."""
    return key if re.fullmatch(r"[A-Za-z0-9_]{1,64}", key) else "(key)"


def config_validate(overrides: Any) -> None:
    """Raise ConfigInvalid with the JSON path of every fault (unknown keys, wrong types)."""
    errors = []
    for error in sorted(_validator.iter_errors(overrides), key=lambda e: list(e.absolute_path)):
        path = "/".join(["config", *(_shown(str(p)) for p in error.absolute_path)])
        if error.validator == "additionalProperties":
            reason = "unknown key: " + ", ".join(
                _shown(key)
                for key in sorted(set(error.instance) - set(error.schema.get("properties", {})))
            )
        else:
            # The message of `type`/`pattern`/... errors names the rule, not the value.
            reason = f"fails `{error.validator}`: {error.validator_value!r}"
        errors.append({"path": path, "reason": reason})
        if len(errors) >= 20:
            break
    locale = overrides.get("locale") if isinstance(overrides, dict) else None
    zone = locale.get("time_zone") if isinstance(locale, dict) else None
    if isinstance(zone, str) and zone not in _time_zones():
        errors.append({"path": "config/locale/time_zone", "reason": "not an IANA time zone"})
    if errors:
        raise ConfigInvalid(errors)


@functools.cache
def _time_zones() -> frozenset[str]:
    """The IANA names zoneinfo knows (the system's database or the tzdata package)."""
    return frozenset(zoneinfo.available_timezones())


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it; nested objects merge, everything else replaces.
    Shares nothing mutable with either."""
    merged = _copied(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = _copied(value)
    return merged


def _copied(value: Any) -> Any:
    """A copy of a JSON value (a config: objects, arrays, strings, numbers, booleans,
    null), its objects and arrays new, its immutable leaves shared: what copy.deepcopy
    gives, at a fifth of its cost (no memo). Anything else is deep-copied."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return copy.deepcopy(value)


def config_effective(*, tenant) -> dict[str, Any]:
    """The defaults deep-merged with the tenant's overrides."""
    return deep_merge(DEFAULTS, tenant.config or {})


def config_section(*, tenant, name: str) -> Any:
    """`config_effective(tenant=tenant)[name]`, merging (and copying) only that section:
    for the hot path, which reads one section per message (the rate limits read theirs
    for every action; the whole merge deep-copied every default, about 40 us a message).
    The tenant's overrides are read as they are (the Tenant row the caller loaded)."""
    overrides = tenant.config or {}
    if name not in overrides:
        return _copied(DEFAULTS[name])
    return deep_merge({name: DEFAULTS[name]}, {name: overrides[name]})[name]


def user_message(*, tenant, code: str) -> str | None:
    """The tenant's whitelabel text for error `code` (`messages.<code>`), or None.

    None means "use the platform's default": no tenant, no override, or an override that
    is not a non-empty string. Reads the overrides of the Tenant row the caller loaded
    already (no query); the defaults are not returned, the caller keeps its own.
    """
    if tenant is None:
        return None
    messages = (getattr(tenant, "config", None) or {}).get("messages")
    text = messages.get(str(code)) if isinstance(messages, dict) else None
    return text if isinstance(text, str) and text.strip() else None
