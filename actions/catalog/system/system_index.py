"""`system.index`: The index: every action and its schemas, and the connectors."""

from typing import Any

from actions.contract.payloads import Empty, Result
from actions.contract.registry import action
from tenants.roles import SIGNED_IN


class IndexOut(Result):
    api: str
    environment: str
    error_codes: list[str]
    actions: list[dict[str, Any]]
    # Each connector with its state and the actions that use it (docs/connectors.md).
    connectors: list[dict[str, Any]]


@action(
    "system.index",
    channel="user",
    summary="The index: every action and its schemas.",
    input=Empty,
    output=IndexOut,
    roles=SIGNED_IN,
    scope="account",
    state="released",
)
def system_index(ctx, payload: Empty) -> IndexOut:
    from actions.contract.index import index_document

    return IndexOut.model_validate(index_document())
