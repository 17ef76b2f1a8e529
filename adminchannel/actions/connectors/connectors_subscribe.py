"""`connectors.subscribe`: Subscribe the tenant to a connector."""

from actions.contract.registry import dummy
from adminchannel.actions.connectors._models import Connector, ConnectorRef
from tenants.roles import OWNERS

dummy(  # TODO
    "connectors.subscribe",
    channel="admin",
    roles=OWNERS,
    summary="Subscribe the tenant to a connector.",
    input=ConnectorRef,
    output=Connector,
)
