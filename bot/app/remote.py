"""Who sent a request: the client's address behind TRUSTED_PROXIES, whether it is local, and
whether a posted form came from one of this server's own pages (`foreign`).

The peer (the other end of the TCP connection) is the client, unless it is one of the
trusted proxies: then X-Forwarded-For is read from the right, each trusted proxy skipped, and
the first address that is not one is the client (nginx's `real_ip_recursive`, Caddy's
`trusted_proxies`). A client can write anything at the left of that header; only what the
trusted proxies appended is believed. A malformed header is not believed at all.

A request is local when its client is a loopback address and nothing forwarded it that this
module could not read: a proxy on this host (trusted or not) forwards everyone, and the
`Forwarded` header (RFC 7239) is not read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from bot.config import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

TRUSTED = web.AppKey("trusted_proxies", tuple)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


def trust(app: web.Application, networks: Iterable[Network]) -> None:
    """Make `networks` the trusted proxies of `app`'s requests (and its sub-applications')."""
    app[TRUSTED] = tuple(networks)


def address(text: str) -> Address | None:
    """An IP address as written (an IPv4-mapped IPv6 address as its IPv4), or None."""
    try:
        parsed = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


@dataclass(frozen=True)
class Client:
    """Who sent a request, as far as the proxies that may be believed say."""

    address: Address | None  # None: the peer has no IP address (a Unix socket)
    # A proxy forwarded the request and who for was not read (an untrusted peer's header, a
    # malformed one, a trusted proxy that named nobody): the client is the proxy, not believed.
    unread: bool = False


def _trusted(candidate: Address, networks: tuple[Network, ...]) -> bool:
    return any(candidate in network for network in networks)


def client(request: web.Request) -> Client:
    """The client of `request`, its X-Forwarded-For read only from a trusted proxy."""
    peer = address(request.remote or "")
    header = ",".join(request.headers.getall("X-Forwarded-For", []))
    forwarded = bool(header.strip()) or "Forwarded" in request.headers
    networks: tuple[Network, ...] = request.config_dict.get(TRUSTED, ())
    if peer is None or not _trusted(peer, networks):
        return Client(peer, unread=forwarded)
    hops = [address(item) for item in header.split(",")] if header.strip() else []
    if not hops or any(hop is None for hop in hops):
        return Client(peer, unread=True)
    for hop in reversed(hops):
        assert hop is not None
        if not _trusted(hop, networks):
            return Client(hop)
    return Client(hops[0])  # every hop a trusted proxy: the first is where it started


def client_address(request: web.Request) -> str:
    """The client's address for a log line ("unknown" when the peer has none)."""
    found = client(request).address
    return "unknown" if found is None else str(found)


def is_local(request: web.Request) -> bool:
    """From this host: the client is on a loopback address, and no unread proxy forwarded it."""
    found = client(request)
    return found.address is not None and found.address.is_loopback and not found.unread


def loopback_host(host: str) -> bool:
    """Whether HOST (where the App listens) is a loopback address or a name of one."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name in LOOPBACK_NAMES:
        return True
    parsed = address(name)
    return parsed is not None and parsed.is_loopback


def base_url(request: web.Request) -> str:
    """This server's own address as the request reached it (scheme from a proxy's
    X-Forwarded-Proto when it says http or https, the Host header)."""
    scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    scheme = scheme if scheme in ("http", "https") else request.scheme
    return f"{scheme}://{request.host}"


def _origin(url: str) -> tuple[str, str, int] | None:
    """Scheme, host and port of a URL (the scheme's port when none is written), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def foreign(request: web.Request, then: str) -> str | None:
    """Why a posted form did not come from one of this server's pages, or None when it did;
    `then` says what to do about it. The CSRF check of every form that acts (the setup page,
    the dashboard's Re-run).

    Browsers send Origin with every form post (Referer only when Origin is missing, as old
    ones do); the form page's Referrer-Policy is same-origin, under which a same-origin
    post's Origin is the page's and not "null". A CSRF post cannot set X-Forwarded-Proto
    or Host, so base_url is this server's own address for any browser's request.
    """
    sent = request.headers.get("Origin") or request.headers.get("Referer")
    if not sent:
        return "The form was posted without an Origin or Referer header, as no browser does."
    if _origin(sent) is None or _origin(sent) != _origin(base_url(request)):
        return (
            f"The form was posted from {sent}, not from this server's own address "
            f"{base_url(request)}: {then}."
        )
    return None
