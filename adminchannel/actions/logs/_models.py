"""Logs: the tenant's action log and the central error log, queried (admin channel).

Models shared by several actions of this domain."""

from uuid import UUID

from pydantic import ValidationError

from actions.contract.errors import ActionError, ErrorCode


def _require(ctx, allowed: tuple[str, ...]) -> None:
    # The pipeline already checked the entry's roles; checked again here because these
    # read logs, and a wrong index entry must not open them (fail closed).
    if not ctx.roles & set(allowed):
        raise ActionError(ErrorCode.FORBIDDEN, f"Your roles do not allow {ctx.action}.")


def _valid(model, entry: dict):
    """A log line as an output model; None for a line that does not fit (skipped)."""
    try:
        return model.model_validate(entry)
    except ValidationError:
        return None


def _uuid_or_none(value) -> str | None:
    try:
        return str(UUID(str(value))) if value else None
    except ValueError:
        return None
