"""Replaying a stored trace offline: the pure steps (request -> outbound, inbound ->
response) run again from what the trace kept, and each result is compared with the one
stored. Nothing is sent; no credential is opened (secrets are redacted on both sides)."""

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from connectors.base import Call
from connectors.catalog import CONNECTORS
from connectors.models import ConnectorTrace
from connectors.runtime import step_data


@dataclass
class StepResult:
    step: str
    status: str  # same | differs | not_run (an earlier step failed or was not stored)
    differences: list[str]
    note: str = ""


def differences(stored: Any, replayed: Any, path: str = "") -> list[str]:
    """Where two JSON values differ: one line per path."""
    if isinstance(stored, dict) and isinstance(replayed, dict):
        found = []
        for key in sorted(set(stored) | set(replayed), key=str):
            where = f"{path}/{key}"
            if key not in replayed:
                found.append(f"{where}: stored {stored[key]!r}, replay has none")
            elif key not in stored:
                found.append(f"{where}: replay {replayed[key]!r}, stored has none")
            else:
                found += differences(stored[key], replayed[key], where)
        return found
    if isinstance(stored, list) and isinstance(replayed, list) and len(stored) == len(replayed):
        return [
            d
            for i, (a, b) in enumerate(zip(stored, replayed, strict=True))
            for d in differences(a, b, f"{path}/{i}")
        ]
    return [] if stored == replayed else [f"{path or '/'}: stored {stored!r}, replay {replayed!r}"]


def replay(trace: ConnectorTrace) -> list[StepResult]:
    cls = CONNECTORS.get(trace.connector)
    if cls is None:
        raise LookupError(f"no connector {trace.connector!r} any more")
    stored = {s["step"]: s["data"] for s in trace.steps}
    connector = cls()
    results: list[StepResult] = []
    try:
        request = cls.Request.model_validate(stored["request"])
        config = cls.config.model_validate(trace.config)
    except (KeyError, ValidationError) as exc:
        note = f"the stored request or config no longer fits its DTO: {exc}"
        return [StepResult(s, "not_run", [], note) for s in ("outbound", "response")]
    call = Call(config=config, secrets={}, timeout_s=cls.timeout_s, message_id=trace.message_id)
    results.append(
        _compare("outbound", stored.get("outbound"), lambda: connector.outbound(request, call), cls)
    )
    if "inbound" not in stored:
        results.append(
            StepResult("response", "not_run", [], "no inbound payload was stored (the call failed)")
        )
        return results
    try:
        inbound = cls.Inbound.model_validate(stored["inbound"])
    except ValidationError as exc:
        results.append(
            StepResult("response", "not_run", [], f"the stored inbound no longer fits: {exc}")
        )
        return results
    results.append(
        _compare(
            "response", stored.get("response"), lambda: connector.response(inbound, request), cls
        )
    )
    return results


def _compare(step: str, stored, run, cls) -> StepResult:
    try:
        replayed = step_data(cls, run())
    except Exception as exc:  # a transformation that fails now is a finding, not a crash
        return StepResult(step, "differs", [f"replay raised {type(exc).__name__}: {exc}"])
    if stored is None:
        return StepResult(step, "differs", [f"stored has no {step}; replay made one"])
    found = differences(stored, replayed)
    return StepResult(step, "differs" if found else "same", found)
