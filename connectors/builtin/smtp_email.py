"""`smtp_email`: e-mail through an SMTP server the tenant configured (smtplib).

The server's host is held to the same SSRF rules as an HTTP connector's URL. A 4xx reply
(temporary) or a timeout may succeed later; a 5xx reply (permanent) will not.
"""

import smtplib
from email.message import EmailMessage

from pydantic import Field

from actions.contract.payloads import Email, ShortText
from connectors import http
from connectors.base import DTO, Call, Connector, ConnectorFailure, Failure
from release.states import State


class SmtpConfig(DTO):
    host: ShortText
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    from_address: Email
    credential_id: str | None = None  # a credential of provider `smtp` (username, password)
    timeout_s: float = Field(default=10.0, gt=0, le=30)  # per attempt


class EmailRequest(DTO):
    to: Email
    subject: ShortText
    body: str = Field(min_length=1, max_length=100_000)


class EmailOutbound(DTO):
    sender: str
    to: str
    subject: str
    body: str
    message_id: str  # the Message-ID header, derived from our message id


class EmailInbound(DTO):
    refused: dict[str, str]  # recipient -> the server's reply, for those it refused


class EmailResponse(DTO):
    accepted: bool
    recipient: str


class SmtpEmail(Connector[EmailRequest, EmailOutbound, EmailInbound, EmailResponse, SmtpConfig]):
    key = "smtp_email"
    name = "E-mail over SMTP"
    description = "Sends e-mail through the tenant's SMTP server."
    state = State.UNDER_DEV
    provider = "smtp"
    config = SmtpConfig
    Request = EmailRequest
    Outbound = EmailOutbound
    Inbound = EmailInbound
    Response = EmailResponse

    def outbound(self, request: EmailRequest, call: Call[SmtpConfig]) -> EmailOutbound:
        return EmailOutbound(
            sender=call.config.from_address,
            to=request.to,
            subject=request.subject,
            body=request.body,
            message_id=f"<{call.message_id}@switchboard>",
        )

    def send(self, outbound: EmailOutbound, call: Call[SmtpConfig]) -> EmailInbound:
        config = call.config
        _, host, port, address = http.resolve_checked(f"http://{config.host}:{config.port}/")
        message = EmailMessage()
        message["From"], message["To"] = outbound.sender, outbound.to
        message["Subject"], message["Message-ID"] = outbound.subject, outbound.message_id
        message.set_content(outbound.body)
        try:
            with smtplib.SMTP(
                address, port, timeout=call.timeout_s, local_hostname="switchboard"
            ) as smtp:
                vars(smtp)["_host"] = host  # STARTTLS checks the certificate against the name
                if config.starttls:
                    smtp.starttls()
                if call.secrets.get("password"):
                    smtp.login(call.secrets.get("username", ""), call.secrets["password"])
                refused = smtp.send_message(message)
        except TimeoutError:
            raise ConnectorFailure(
                Failure.TIMEOUT, f"no answer within {call.timeout_s} s"
            ) from None
        except smtplib.SMTPResponseException as exc:
            kind = Failure.SERVER if 400 <= exc.smtp_code < 500 else Failure.CLIENT
            raise ConnectorFailure(
                kind, f"the server answered {exc.smtp_code}", status=exc.smtp_code
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise ConnectorFailure(Failure.CLIENT, "the server refused every recipient") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectorFailure(
                Failure.UNREACHABLE, f"cannot reach the server ({type(exc).__name__})"
            ) from None
        return EmailInbound(refused={k: f"{v[0]} {v[1]!r}" for k, v in refused.items()})

    def response(self, inbound: EmailInbound, request: EmailRequest) -> EmailResponse:
        return EmailResponse(accepted=request.to not in inbound.refused, recipient=request.to)
