"""Outbound HTTP(S) for connectors, under the guard's SSRF rules.

The URL is judged by its spelling (actions/contract/ssrf.py `problem`), the host is then
resolved here and every address re-checked (`address_problem`), and the connection goes
to the address that was checked (no second lookup a DNS rebinding could answer
differently); TLS still verifies the certificate against the host name.

Hosts in `SWITCHBOARD["SSRF_ALLOWED_HOSTS"]` (ssrf.allowed_hosts: exact host names or
addresses; empty in every environment but local_test, whose tests run their providers on
127.0.0.2) skip the internal-address rules. Nothing else does.
"""

import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3

from actions.contract.ssrf import address_problem, allowed_hosts, problem
from connectors.base import ConnectorFailure, Failure

MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise ConnectorFailure(Failure.MALFORMED, "the answer is not JSON") from None


def resolve_checked(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to), or ConnectorFailure `refused`."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowed = host in allowed_hosts()
    why = None if allowed else problem(url)
    if why is not None:
        raise ConnectorFailure(Failure.REFUSED, f"the URL is not allowed ({why})")
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ConnectorFailure(Failure.UNREACHABLE, "the host name does not resolve") from None
    addresses = [str(info[4][0]) for info in infos]
    if not allowed:
        for address in addresses:
            why = address_problem(address)
            if why is not None:
                raise ConnectorFailure(Failure.REFUSED, f"the host resolves to an {why}")
    return scheme, host, port, addresses[0]


def request(
    method: str,
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
) -> Answer:
    """One HTTP request, no redirects followed, no retries (the caller retries)."""
    scheme, host, port, address = resolve_checked(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host,
            assert_hostname=host, cert_reqs="CERT_REQUIRED",
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    default_port = 443 if scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    try:
        response = pool.urlopen(
            method,
            path,
            body=body,
            headers={"Host": host_header, **headers},
            redirect=False,
            preload_content=False,
        )
        data = response.read(MAX_ANSWER_BYTES + 1)
        response.release_conn()
    except urllib3.exceptions.TimeoutError:
        raise ConnectorFailure(Failure.TIMEOUT, f"no answer within {timeout_s} s") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ConnectorFailure(
            Failure.UNREACHABLE, f"cannot reach the host ({type(exc).__name__})"
        ) from None
    finally:
        pool.close()
    if len(data) > MAX_ANSWER_BYTES:
        raise ConnectorFailure(Failure.MALFORMED, "the answer is too large")
    status = response.status
    if status >= 500 or status == 429:
        raise ConnectorFailure(Failure.SERVER, f"the service answered {status}", status=status)
    if status >= 400:
        raise ConnectorFailure(Failure.CLIENT, f"the service answered {status}", status=status)
    if 300 <= status < 400:
        raise ConnectorFailure(Failure.CLIENT, f"the service redirected ({status})", status=status)
    return Answer(status, {k.lower(): v for k, v in response.headers.items()}, data)
