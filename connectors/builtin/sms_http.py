"""`sms_http`: text messages through an HTTP messaging provider.

POST `<config.url>` with JSON `{"from", "to", "text", "reference"}` and
`Authorization: Bearer <api_key>`; the provider answers `{"id", "status"}`.
"""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError

from actions.contract.payloads import ShortText, Url
from connectors import http
from connectors.base import DTO, Call, Connector, ConnectorFailure, Failure
from release.states import State

Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{6,15}$")]


class SmsConfig(DTO):
    url: Url  # the provider's send endpoint
    sender: ShortText  # the sender id or number shown to the recipient
    credential_id: str  # a credential of provider `sms_http` (its `api_key`)
    timeout_s: float = Field(default=10.0, gt=0, le=30)  # per attempt


class SmsRequest(DTO):
    to: Phone
    text: Annotated[str, StringConstraints(min_length=1, max_length=1600)]


class SmsOutbound(DTO):
    """The provider's request body."""

    sender: str = Field(serialization_alias="from")
    to: str
    text: str
    reference: str  # our message id: the provider's idempotency key


class SmsInbound(DTO):
    """The provider's answer."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    status: Literal["queued", "sent", "delivered"]


class SmsResponse(DTO):
    provider_message_id: str
    status: Literal["queued", "sent", "delivered"]


class SmsHttp(Connector[SmsRequest, SmsOutbound, SmsInbound, SmsResponse, SmsConfig]):
    key = "sms_http"
    name = "SMS over HTTP"
    description = "Sends text messages through an HTTP messaging provider."
    state = State.UNDER_DEV
    provider = "sms_http"
    config = SmsConfig
    Request = SmsRequest
    Outbound = SmsOutbound
    Inbound = SmsInbound
    Response = SmsResponse

    def outbound(self, request: SmsRequest, call: Call[SmsConfig]) -> SmsOutbound:
        return SmsOutbound(
            sender=call.config.sender, to=request.to, text=request.text, reference=call.message_id
        )

    def send(self, outbound: SmsOutbound, call: Call[SmsConfig]) -> SmsInbound:
        body = outbound.model_dump_json(by_alias=True).encode()
        answer = http.request(
            "POST",
            call.config.url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {call.secrets.get('api_key', '')}",
                "Idempotency-Key": outbound.reference,
            },
            timeout_s=call.timeout_s,
        )
        return parse(SmsInbound, answer.json())

    def response(self, inbound: SmsInbound, request: SmsRequest) -> SmsResponse:
        return SmsResponse(provider_message_id=inbound.id, status=inbound.status)


def parse(model, data):
    """`data` as the inbound DTO `model`, or a `malformed_answer` failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) or "(root)" for e in exc.errors()})
        raise ConnectorFailure(
            Failure.MALFORMED, f"the answer does not fit {model.__name__} ({', '.join(fields)})"
        ) from None
