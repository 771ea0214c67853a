"""Whether GitHub could reach a public base URL: the warnings the setup page and `register`
give before the App is registered with it.

Read from the URL alone (no name is looked up): a loopback or private address, a name only a
local network resolves, plain http. Warnings, not refusals: a GitHub Enterprise Server in the
same private network reaches such an address, and a browser on this machine follows the
registration's redirect to it.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Names that no public DNS resolves: mDNS (.local), the suffixes routers and companies hand
# out, home.arpa (RFC 8375) and ICANN's .internal.
LOCAL_SUFFIXES = (
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".home.arpa",
    ".corp",
    ".private",
)
PRIVATE_NETWORK = (
    "If your GitHub is a GitHub Enterprise Server in the same private network, it can reach "
    "this address: go on."
)


def tunnel_hint(port: int) -> str:
    """How to give GitHub an address that reaches this server on `port`, for a trial."""
    return (
        "For a trial on this machine, run `cloudflared tunnel --url http://localhost:"
        f"{port}` and use the https://….trycloudflare.com address it prints as the public base "
        "URL; or forward webhooks with smee.io (README's Quick start)."
    )


def _host_problem(host: str) -> tuple[str, bool] | None:
    """Why GitHub's servers could not reach `host`, and whether a server in the same private
    network could; None when nothing says so."""
    name = host.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback:
            return f"{host} is a loopback address (this machine, to every machine)", False
        if address.is_unspecified:
            return f"{host} is the unspecified address, which names no machine", False
        if address.is_link_local:
            return f"{host} is a link-local address, reachable on this network segment only", True
        if not address.is_global:
            return f"{host} is a private-network address, not reachable from the internet", True
        return None
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} is this machine, to every machine", False
    if name.endswith(LOCAL_SUFFIXES):
        return f"{host} is a name only a local network resolves", True
    if "." not in name:
        return f"{host} has no domain: only this network resolves it", True
    return None


def warnings(base_url: str, port: int, webhook_url: str | None = None) -> list[str]:
    """What may keep GitHub from reaching `webhook_url` (by default /webhooks under
    `base_url`, an http(s) URL with a host, checked before), each a paragraph; empty when
    nothing does. `port`: where this server listens, for the tunnel's command."""
    webhook_url = webhook_url or f"{base_url.rstrip('/')}/webhooks"
    parts = urlsplit(webhook_url)
    found: list[str] = []
    problem = _host_problem(parts.hostname or "")
    if problem is not None:
        why, private = problem
        found.append(
            f"GitHub sends webhooks to {webhook_url} and cannot reach it: "
            f"{why}. " + (PRIVATE_NETWORK + " " if private else "") + tunnel_hint(port)
        )
    if parts.scheme == "http":
        found.append(
            "It is plain http://: webhooks and the code GitHub sends back after registration "
            "would cross the network unencrypted. Put HTTPS in front of this server (a "
            "tunnel's address is https)."
        )
    return found
