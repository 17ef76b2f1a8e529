"""Request and response envelopes: parsing, validation against the JSON Schema files in
actions/contract/schemas/, and building response envelopes."""

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator

from actions.contract.errors import ActionError, ErrorCode

API_VERSION = "1"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
MAX_DEPTH = 32


@cache
def _schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / f"envelope.{kind}.json").read_text())
    return schema


@cache
def validator(kind: str) -> Draft202012Validator:
    schema = _schema(kind)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _compiled(kind: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(_schema(kind))


def fits(kind: str, envelope: Any) -> bool:
    """True only if `envelope` fits the schema: a compiled check (jsonschema-rs), about
    1 us against jsonschema's 40 us. False means "ask jsonschema", which decides and
    names the errors: the compiled check is never more lenient than jsonschema here (its
    `$` ends the string, where Python's also allows a final newline; a value it cannot
    take in a field it checks, such as a lone surrogate in `tenant`, raises), and
    tests/unit/test_envelope_fast_check.py holds it to that on every corpus."""
    try:
        return bool(_compiled(kind).is_valid(envelope))
    except (ValueError, TypeError, OverflowError, UnicodeError):
        return False


def new_trace_id() -> str:
    return uuid.uuid4().hex


def _depth(value: Any, limit: int) -> int:
    """Nesting depth, stopping early once past `limit`."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def _openers(body: bytes | str | dict) -> int:
    """How many `{` and `[` the body holds (strings' included). `_depth` counts a value
    inside the innermost object or array as a level too, so no value of the body is
    deeper than this count plus one: a body with fewer than MAX_DEPTH of them needs no
    walk. A decoded body always needs one (-> MAX_DEPTH)."""
    if isinstance(body, bytes):
        return body.count(b"{") + body.count(b"[")
    if isinstance(body, str):
        return body.count("{") + body.count("[")
    return MAX_DEPTH


def parse_request(body: bytes | str | dict) -> dict:
    """Bytes (or an already decoded object) -> a request envelope that fits its schema."""
    if isinstance(body, dict):
        envelope = body
    else:
        try:
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ActionError(ErrorCode.INVALID_ENVELOPE, "The body is not valid JSON.") from None
        except RecursionError:  # ~1 000 levels of [[[... in a small body
            raise ActionError(
                ErrorCode.INVALID_ENVELOPE,
                f"The envelope is nested deeper than {MAX_DEPTH} levels.",
            ) from None
    if not isinstance(envelope, dict):
        raise ActionError(ErrorCode.INVALID_ENVELOPE, "The envelope must be a JSON object.")
    if _openers(body) >= MAX_DEPTH and _depth(envelope, MAX_DEPTH) > MAX_DEPTH:
        raise ActionError(
            ErrorCode.INVALID_ENVELOPE, f"The envelope is nested deeper than {MAX_DEPTH} levels."
        )
    if fits("request", envelope):
        return envelope
    errors = sorted(validator("request").iter_errors(envelope), key=lambda e: list(e.path))
    if errors:
        raise ActionError(
            ErrorCode.INVALID_ENVELOPE,
            "The envelope does not fit the request schema.",
            details={"errors": [_describe(e) for e in errors[:20]]},
        )
    return envelope


def _describe(error) -> dict:
    """A schema error without the offending value (never echo what a client sent)."""
    path = "/".join(str(p) for p in error.absolute_path) or "(envelope)"
    reasons = {
        "required": "is missing a required field",
        "additionalProperties": "has a field that is not allowed",
        "type": f"must be of type {error.validator_value}",
        "pattern": "has a value of the wrong form",
        "const": f"must be {error.validator_value!r}",
        "maxLength": f"is longer than {error.validator_value} characters",
        "minimum": f"is below {error.validator_value}",
        "maximum": f"is above {error.validator_value}",
    }
    reason = reasons.get(error.validator, f"fails `{error.validator}`")
    if error.validator == "required":
        reason = error.message  # names the schema's field, never the client's value
    elif error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        reason = f"has fields that are not allowed: {', '.join(map(_safe_name, extra))}"
    return {"path": path, "reason": reason}


def _safe_name(name: str) -> str:
    return name if name.isidentifier() and len(name) <= 40 else "(unprintable)"


def peek(body: bytes | str | dict) -> dict:
    """Best-effort id/action/tenant of a request that failed to parse, for the error reply."""
    try:
        envelope = body if isinstance(body, dict) else json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(envelope, dict):
        return {}
    props = _schema("request")["properties"]
    out: dict[str, str | int] = {}
    for key in ("id", "action", "tenant"):
        value = envelope.get(key)
        if isinstance(value, str) and validator("request").evolve(schema=props[key]).is_valid(
            value
        ):
            out[key] = value
    version = envelope.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and 1 <= version <= 1000:
        out["version"] = version
    return out


def response(
    request: dict,
    *,
    status: str,
    trace_id: str,
    result: dict | None = None,
    error: ActionError | dict | None = None,
    state: str | None = None,
    duration_ms: int | None = None,
    extra_meta: dict | None = None,
) -> dict:
    if isinstance(error, ActionError):
        error = error.as_error()
    meta = {"state": state, "duration_ms": duration_ms, "trace_id": trace_id}
    correlation_id = (request.get("meta") or {}).get("correlation_id")
    if correlation_id:
        meta["correlation_id"] = correlation_id
    meta.update(extra_meta or {})
    return {
        "api": API_VERSION,
        "id": request.get("id"),
        "action": request.get("action"),
        "version": request.get("version"),
        "tenant": request.get("tenant"),
        "status": status,
        "result": result if status == "ok" else None,
        "error": error if status == "error" else None,
        "meta": meta,
    }


def error_response(request: dict, err: ActionError, *, trace_id: str, **kw) -> dict:
    return response(request, status="error", error=err, trace_id=trace_id, **kw)
