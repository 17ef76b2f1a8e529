"""Server-side request forgery: URLs that would make the server call itself or its network.

No DNS lookups here (the guard must be fast and deterministic); a host name is judged by
its spelling. The connector that fetches a URL must still resolve it and re-check the
address it connects to (DNS rebinding) with `address_problem`, see docs/security.md and
docs/connectors.md. It lives in the contract room because the guard (edge) and the
connectors (worker) both apply it.
"""

import ipaddress
import re
import socket
import unicodedata
from urllib.parse import unquote, urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})
# Host names that are, or resolve by design to, the machine itself or a cloud metadata
# service; and wildcard-DNS services that resolve `<ip>.<service>` to that ip.
_BLOCKED_HOSTS = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "localtest.me",
        "lvh.me",
        "vcap.me",
        "lacolhost.com",
        "0",
    }
)
_BLOCKED_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".localdomain",
    ".home.arpa",
    ".intranet",
    ".corp",
    ".lan",
    ".svc",
    ".cluster.local",
    ".nip.io",
    ".sslip.io",
    ".xip.io",
    ".localtest.me",
    ".lvh.me",
    ".vcap.me",
)
# `scheme://`, also nested (`jar:http://`, `view-source:file://`)
_URL_LIKE = re.compile(r"^\s*[a-z][a-z0-9+.-]{1,20}:(?:[a-z][a-z0-9+.-]*:)*(?://|\\\\)", re.I)
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def allowed_hosts() -> frozenset[str]:
    """`SWITCHBOARD["SSRF_ALLOWED_HOSTS"]`: host names or addresses, spelled exactly, that
    may be reached although the rules would refuse them. Empty in every environment but
    local_test, whose connector tests run their providers on 127.0.0.2 (loopback; no
    corpus case names it). Never a pattern, never a blanket switch."""
    from django.conf import settings

    return frozenset(h.lower() for h in settings.SWITCHBOARD.get("SSRF_ALLOWED_HOSTS", ()))


def looks_like_url(text: str) -> bool:
    return _URL_LIKE.match(text) is not None


def problem(url: str) -> str | None:
    """Why `url` must not be fetched by the server, or None when it may be."""
    text = unicodedata.normalize("NFKC", url).strip()
    scheme = _SCHEME.match(text)
    if scheme is None or scheme.group(1).lower() not in ALLOWED_SCHEMES:
        return "scheme"
    if any(c in text for c in "\\\t\r\n ") or "%00" in text:
        return "malformed"
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "malformed"
    if not host:
        return "malformed"
    host = _ascii_host(unquote(host))
    if host is None:
        return "malformed"
    host = host.rstrip(".").lower()
    if "%" in host or any(c in host for c in "@\\/"):
        return "malformed"
    if host in allowed_hosts():  # exact spellings a test environment names, nothing else
        return None
    if host in _BLOCKED_HOSTS or host.endswith(_BLOCKED_SUFFIXES):
        return "internal_host"
    address = _as_ip(host)
    if address is not None and not _public(address):
        return "internal_address"
    return None


# Label separators of IDNA (UTS #46 maps them to "."): getaddrinfo resolves
# `127。0。0。1` and `metadata。google。internal` as if they were written with dots.
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _ascii_host(host: str) -> str | None:
    """The host as a resolver would look it up: NFKC, IDNA dots as dots, a non-ASCII
    name in its IDNA (punycode) form; None if it is not a valid IDNA name."""
    host = unicodedata.normalize("NFKC", host).translate(_IDNA_DOTS)
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _as_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    # inet_aton takes what C resolvers take: 2130706433, 0x7f000001, 0177.0.0.1, 127.1
    if re.fullmatch(r"[0-9a-fx.]+", host) and not re.fullmatch(r"[a-f.]+", host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _public(address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not _public(embedded):
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def address_problem(address: str) -> str | None:
    """Why a resolved address must not be connected to (`internal_address`), or None."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return "malformed"
    return None if _public(ip) else "internal_address"
