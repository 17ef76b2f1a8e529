"""`connectors.unsubscribe`: End the tenant's subscription to a connector."""

from actions.contract.registry import action
from adminchannel.actions.connectors._models import Connector, ConnectorRef, connector_result
from tenants.roles import OWNERS


@action(
    "connectors.unsubscribe",
    channel="admin",
    roles=OWNERS,
    summary="End the tenant's subscription to a connector.",
    input=ConnectorRef,
    output=Connector,
)
def connectors_unsubscribe(ctx, payload: ConnectorRef) -> Connector:
    return connector_result(ctx.connectors.unsubscribe(payload.connector))
