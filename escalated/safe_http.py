"""Outbound HTTP for webhooks, safe against being pointed at the inside of the network.

An admin-entered URL is a classic server-side request forgery vector: a webhook aimed at
``http://169.254.169.254/`` or ``http://localhost:6379/`` would make the helpdesk talk to the
cloud metadata service or an internal database. So a call:

* uses https (plain http only where allowed: in development, or by setting);
* resolves the host once, refuses it if any address is loopback, private, link-local, reserved or
  multicast (unless private networks are allowed), then connects to exactly the address it checked,
  so a second DNS answer cannot swap in an internal address (DNS rebinding); TLS still verifies the
  certificate against the host name;
* never follows a redirect (a 3xx is an answer like any other, and counts as a failure);
* has short timeouts and reads at most a small part of the response.

The standard library's ``http.client`` is used on purpose: it lets the connection be pinned to the
checked address, which the popular clients do not offer without reaching into their internals.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_RESPONSE_BYTES = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValueError):
    """The URL may not be called: wrong scheme, credentials in it, or a non-public address."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


# IPv6 prefixes whose addresses carry an IPv4 address in their last 32 bits, and reach it: a
# translator or the host itself would deliver a packet for one of them to that IPv4 address.
_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(prefix)
    for prefix in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated (RFC 2765)
        "::/96",  # IPv4-compatible (deprecated, RFC 4291), which includes :: and ::1
        "64:ff9b::/96",  # NAT64, well-known prefix (RFC 6052)
    )
)
# NAT64's local-use prefix (RFC 8215): where the IPv4 address sits depends on the length the
# network chose, and the range is never globally routable, so it is refused whatever it holds.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def carried_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses an IPv6 address carries and leads to (6to4 its gateway, Teredo its
    server and client); None when it carries none."""
    if any(address in network for network in _LAST_32_BITS):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address in _SIX_TO_FOUR:
        return [ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)]
    if address in _TEREDO:
        server, client = address.teredo or (None, None)
        return [server, client] if server and client else None
    return None


def public_address(address: IPAddress) -> bool:
    """Whether a webhook may be sent to ``address``: a global unicast address, where an IPv6
    address carrying an IPv4 one is judged by the IPv4 address (or addresses) inside."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        inside = carried_ipv4(address)
        if inside is not None:
            return all(public_address(v4) for v4 in inside)
    return address.is_global and not address.is_multicast


def check_url(url: str, *, require_https: bool, allow_private: bool) -> SplitResult:
    """Refuse a URL that can be judged unsafe without looking it up; return its parts."""
    parts = urlsplit(url.strip())
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeTarget(f"The URL must start with {' or '.join(f'{s}://' for s in allowed)}.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("The URL must not contain a user name or password.")
    try:
        parts.port  # noqa: B018  (parsing the port validates it)
    except ValueError as error:
        raise UnsafeTarget("The URL's port is not valid.") from error
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return parts
    if not allow_private and not public_address(literal):
        raise UnsafeTarget("The URL points at a private, loopback or link-local address.")
    return parts


def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to: every address ``host`` resolves to must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OSError(f"Cannot resolve {host}: {error}") from error
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise OSError(f"{host} resolves to no address.")
    if not allow_private:
        refused = [
            a for a in addresses if not public_address(ipaddress.ip_address(a.split("%")[0]))
        ]
        if refused:
            raise UnsafeTarget(
                f"{host} resolves to a private, loopback or link-local address ({refused[0]})."
            )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int | None, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int | None, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the pinned address.
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    require_https: bool,
    allow_private: bool,
    tls: ssl.SSLContext | None = None,
) -> Response:
    """POST ``body`` to ``url`` under the rules above.

    Raises :class:`UnsafeTarget` for a refused target (retrying will not help) and ``OSError`` for
    network trouble (it may).
    """
    parts = check_url(url, require_https=require_https, allow_private=allow_private)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(host, port, allow_private=allow_private)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = tls or ssl.create_default_context()
        connection = _PinnedHTTPSConnection(host, port, address, timeout, context)
    else:
        connection = _PinnedHTTPConnection(host, port, address, timeout)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.read(MAX_RESPONSE_BYTES))
    except http.client.HTTPException as error:
        raise OSError(f"Bad HTTP response: {error!r}") from error
    finally:
        connection.close()
