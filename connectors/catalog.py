"""The connectors Switchboard has and the providers a credential can be stored for."""

from dataclasses import dataclass

from actions.contract.connectors import ConnectorEntry, connector_register
from connectors.base import Connector
from connectors.builtin.http_webhook import HttpWebhook
from connectors.builtin.sms_http import SmsHttp
from connectors.builtin.smtp_email import SmtpEmail

CONNECTORS: dict[str, type[Connector]] = {c.key: c for c in (HttpWebhook, SmsHttp, SmtpEmail)}


@dataclass(frozen=True)
class ProviderField:
    name: str
    label: str
    secret: bool
    required: bool = True


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    description: str
    auth_type: str  # api_key | oauth2 | basic | token | none
    fields: tuple[ProviderField, ...]
    docs_url: str | None = None

    def describe(self) -> dict:
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "auth_type": self.auth_type,
            "fields": [vars(f) for f in self.fields],
            "docs_url": self.docs_url,
        }


PROVIDERS: dict[str, Provider] = {
    p.key: p
    for p in (
        Provider(
            "http_webhook",
            "Webhook signing secret",
            "The secret outbound webhooks are signed with (HMAC-SHA256).",
            "token",
            (ProviderField("signing_secret", "Signing secret", secret=True),),
        ),
        Provider(
            "sms_http",
            "SMS provider (HTTP)",
            "The API key of an HTTP messaging provider.",
            "api_key",
            (ProviderField("api_key", "API key", secret=True),),
        ),
        Provider(
            "smtp",
            "SMTP server",
            "The login of an SMTP server.",
            "basic",
            (
                ProviderField("username", "User name", secret=False),
                ProviderField("password", "Password", secret=True),
            ),
        ),
    )
}


def connector_class(key: str) -> type[Connector]:
    return CONNECTORS[key]


def register_all() -> None:
    """Publish every connector's entry to the index (actions.contract.connectors)."""
    for cls in CONNECTORS.values():
        connector_register(ConnectorEntry(**cls.describe()))
