"""Shapes shared by the audit actions and the dashboard summary."""

from pydantic import Field

from actions.contract.payloads import Result, ShortText


class ChainState(Result):
    """The admin audit log's hash chain, verified whole (`manage.py audit_verify`)."""

    ok: bool
    checked: int = Field(ge=0)  # entries verified (before the first bad one)
    first_bad_seq: int | None
    problem: ShortText | None
