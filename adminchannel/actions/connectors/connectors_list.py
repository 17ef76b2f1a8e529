"""`connectors.list`: List the connectors of the catalog, each with the tenant's subscription."""

from actions.catalog._common import ListResult
from actions.contract.payloads import Page
from actions.contract.registry import dummy
from adminchannel.actions.connectors._models import Connector
from tenants.roles import OWNERS


class ConnectorQuery(Page):
    subscribed: bool | None = None  # None: all connectors of the catalog


class ConnectorList(ListResult[Connector]):
    pass


dummy(  # TODO
    "connectors.list",
    channel="admin",
    roles=OWNERS,
    summary="List the connectors of the catalog, each with the tenant's subscription.",
    input=ConnectorQuery,
    output=ConnectorList,
)
