"""Real local providers for the connector tests: an HTTP messaging provider / webhook
receiver and an SMTP server (aiosmtpd), each on an ephemeral port of 127.0.0.2 (loopback; the one
address local_test lets past the SSRF rules), run in
threads of the test process; the workers (other processes) reach them over TCP.
Also helpers that subscribe a tenant to a connector through the real actions."""

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.tenancy import send

HOST = "127.0.0.2"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpProvider:
    """`mode`: ok | slow | error500 | error400 | malformed | wrong_shape."""

    mode: str = "ok"
    delay_s: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{HOST}:{self.server.server_address[1]}/v1/messages"

    def start(self) -> "HttpProvider":
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                provider.seen.append(Seen("POST", self.path, dict(self.headers.items()), body))
                if provider.mode == "slow":
                    time.sleep(provider.delay_s)
                status, answer = {
                    "error500": (500, b'{"error": "down"}'),
                    "error400": (400, b'{"error": "bad number"}'),
                    "malformed": (200, b"<html>not json</html>"),
                    "wrong_shape": (200, b'{"unexpected": true}'),
                }.get(
                    provider.mode,
                    (
                        200,
                        json.dumps(
                            {"id": f"prov-{len(provider.seen)}", "status": "queued"}
                        ).encode(),
                    ),
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(
            {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.content}
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = _Mailbox()
        self.controller = Controller(self.mailbox, hostname=HOST, port=_free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def add_credential(t: dict, provider: str, data: dict[str, str], api) -> str:
    """A credential of the tenant `t` (tests.tenancy.make_tenant), made by credentials.create."""
    body = send(
        api,
        "credentials.create",
        {"workspace_id": "ws1", "provider": provider, "name": f"{provider} key", "data": data},
        tenant=t["slug"],
        user=t["member"],
    )
    assert body["status"] == "ok", body
    return body["result"]["id"]


def subscribe(t: dict, connector: str, config: dict, api) -> dict:
    body = send(
        api,
        "connectors.subscribe",
        {"connector": connector, "config": config},
        tenant=t["slug"],
        user=t["owner"],
    )
    assert body["status"] == "ok", body
    return body["result"]


def subscribe_sms(t: dict, provider: HttpProvider, api, *, timeout_s: float = 2.0) -> str:
    """Subscribe `t` to sms_http at `provider` with a fresh API key; returns the key."""
    key = f"sk-live-{t['slug']}"
    credential_id = add_credential(t, "sms_http", {"api_key": key}, api)
    subscribe(
        t,
        "sms_http",
        {
            "url": provider.url,
            "sender": "Acme",
            "credential_id": credential_id,
            "timeout_s": timeout_s,
        },
        api,
    )
    return key
