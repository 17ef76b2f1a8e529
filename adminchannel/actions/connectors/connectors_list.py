"""`connectors.list`: List the connectors of the catalog, each with the tenant's subscription."""

from actions.catalog._common import ListResult
from actions.contract.payloads import Page, PageInfo
from actions.contract.registry import action
from adminchannel.actions.connectors._models import Connector, connector_result
from tenants.roles import OWNERS


class ConnectorQuery(Page):
    subscribed: bool | None = None  # None: all connectors of the catalog


class ConnectorList(ListResult[Connector]):
    pass


@action(
    "connectors.list",
    channel="admin",
    roles=OWNERS,
    summary="List the connectors of the catalog, each with the tenant's subscription.",
    input=ConnectorQuery,
    output=ConnectorList,
)
def connectors_list(ctx, payload: ConnectorQuery) -> ConnectorList:
    entries = [
        e
        for e in ctx.connectors.catalog()
        if payload.subscribed is None or e["subscribed"] == payload.subscribed
    ]
    # The catalog is a handful of entries: one page holds it.
    return ConnectorList(
        items=[connector_result(e) for e in entries[: payload.limit]], page=PageInfo()
    )
