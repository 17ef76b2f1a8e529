"""`connectors.subscribe`: Subscribe the tenant to a connector, with its config."""

from actions.contract.payloads import JsonObject
from actions.contract.registry import action
from adminchannel.actions.connectors._models import Connector, ConnectorRef, connector_result
from tenants.roles import OWNERS


class ConnectorSubscribe(ConnectorRef):
    """`config` must fit the connector's `config_schema` (connectors.list); a connector
    that needs a credential names one in `config.credential_id` (credentials.create).
    Subscribing again replaces the config and keeps `subscribed_at`."""

    config: JsonObject = {}


@action(
    "connectors.subscribe",
    channel="admin",
    roles=OWNERS,
    summary="Subscribe the tenant to a connector, with its config.",
    input=ConnectorSubscribe,
    output=Connector,
)
def connectors_subscribe(ctx, payload: ConnectorSubscribe) -> Connector:
    return connector_result(ctx.connectors.subscribe(payload.connector, dict(payload.config)))
