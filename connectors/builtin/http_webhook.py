"""`http_webhook`: an outbound HTTP(S) POST to a URL the tenant configured, signed.

The body is the JSON `{"id", "event", "data"}`; `X-Switchboard-Signature` is
`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the credential's signing_secret>`
and `X-Switchboard-Timestamp` the Unix time it was signed at, so a receiver can refuse
replays. Any 2xx is accepted; its body is kept (bounded) but not interpreted.
"""

import hashlib
import hmac
import time
from typing import Any

from pydantic import Field

from actions.contract.payloads import ShortText, Url
from connectors import http
from connectors.base import DTO, Call, Connector
from release.states import State


class WebhookConfig(DTO):
    url: Url
    credential_id: str | None = None  # a credential of provider `http_webhook`; None: unsigned
    timeout_s: float = Field(default=10.0, gt=0, le=30)  # per attempt


class WebhookRequest(DTO):
    event: ShortText
    data: dict[str, Any] = Field(default_factory=dict)


class WebhookOutbound(DTO):
    id: str
    event: str
    data: dict[str, Any]


class WebhookInbound(DTO):
    status: int
    body: str = Field(max_length=2000)


class WebhookResponse(DTO):
    delivered: bool
    status: int


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class HttpWebhook(
    Connector[WebhookRequest, WebhookOutbound, WebhookInbound, WebhookResponse, WebhookConfig]
):
    key = "http_webhook"
    name = "Outbound webhook"
    description = "POSTs a signed JSON event to a URL the tenant configured."
    state = State.UNDER_DEV
    provider = "http_webhook"
    config = WebhookConfig
    Request = WebhookRequest
    Outbound = WebhookOutbound
    Inbound = WebhookInbound
    Response = WebhookResponse

    def outbound(self, request: WebhookRequest, call: Call[WebhookConfig]) -> WebhookOutbound:
        return WebhookOutbound(id=call.message_id, event=request.event, data=request.data)

    def send(self, outbound: WebhookOutbound, call: Call[WebhookConfig]) -> WebhookInbound:
        body = outbound.model_dump_json().encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Switchboard-Webhook/1"}
        secret = call.secrets.get("signing_secret")
        if secret:
            timestamp = str(int(time.time()))
            headers["X-Switchboard-Timestamp"] = timestamp
            headers["X-Switchboard-Signature"] = signature(secret, timestamp, body)
        answer = http.request(
            "POST", call.config.url, body=body, headers=headers, timeout_s=call.timeout_s
        )
        return WebhookInbound(
            status=answer.status, body=answer.body[:2000].decode("utf-8", "replace")
        )

    def response(self, inbound: WebhookInbound, request: WebhookRequest) -> WebhookResponse:
        return WebhookResponse(delivered=200 <= inbound.status < 300, status=inbound.status)
