"""`connectors.unsubscribe`: End the tenant's subscription to a connector."""

from actions.contract.registry import dummy
from adminchannel.actions.connectors._models import Connector, ConnectorRef
from tenants.roles import OWNERS

dummy(  # TODO
    "connectors.unsubscribe",
    channel="admin",
    roles=OWNERS,
    summary="End the tenant's subscription to a connector.",
    input=ConnectorRef,
    output=Connector,
)
