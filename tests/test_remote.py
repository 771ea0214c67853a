"""Who sent a request: X-Forwarded-For read only from TRUSTED_PROXIES, and what is local."""

from __future__ import annotations

import ipaddress

import pytest
from aiohttp import web

from bot.app import remote

XFF = "X-Forwarded-For"


async def who(request: web.Request) -> web.Response:
    found = remote.client(request)
    return web.json_response(
        {
            "address": None if found.address is None else str(found.address),
            "unread": found.unread,
            "local": remote.is_local(request),
            "logged": remote.client_address(request),
        }
    )


@pytest.fixture
def ask(aiohttp_client):
    """GET / of an app whose peer is `peer` and whose trusted proxies are `trusted`."""

    async def request(peer: str, trusted: str = "", headers=None) -> dict:
        @web.middleware
        async def from_peer(request, handler):
            return await handler(request.clone(remote=peer))

        app = web.Application(middlewares=[from_peer])
        remote.trust(app, (ipaddress.ip_network(n.strip()) for n in trusted.split(",") if n))
        app.router.add_get("/", who)
        client = await aiohttp_client(app)
        response = await client.get("/", headers=headers or {})
        assert response.status == 200, await response.text()
        return await response.json()

    return request


async def test_without_trusted_proxies_x_forwarded_for_is_ignored(ask):
    outsider = await ask("203.0.113.9", headers={XFF: "127.0.0.1"})
    assert outsider["address"] == "203.0.113.9" and not outsider["local"]

    # A proxy on this host that is not declared: its header is not read, and its requests
    # (everyone's) are not local.
    proxied = await ask("127.0.0.1", headers={XFF: "198.51.100.7"})
    assert proxied["address"] == "127.0.0.1" and proxied["unread"] and not proxied["local"]
    assert (await ask("127.0.0.1", headers={"Forwarded": "for=198.51.100.7"}))["local"] is False

    direct = await ask("127.0.0.1")
    assert direct == {"address": "127.0.0.1", "unread": False, "local": True, "logged": "127.0.0.1"}


async def test_a_trusted_proxy_names_the_client(ask):
    forwarded = await ask("127.0.0.1", "127.0.0.1", {XFF: "203.0.113.9"})
    assert forwarded["address"] == "203.0.113.9" and not forwarded["local"]
    assert forwarded["logged"] == "203.0.113.9"

    # Someone on this host, through the proxy.
    assert (await ask("127.0.0.1", "127.0.0.1", {XFF: "127.0.0.1"}))["local"] is True

    # Several headers are one list, in order.
    two = await ask("10.0.0.2", "10.0.0.0/8", [(XFF, "198.51.100.7"), (XFF, "10.0.0.1")])
    assert two["address"] == "198.51.100.7"


async def test_a_spoofed_chain_is_read_from_the_right(ask):
    # The client wrote "127.0.0.1, 10.0.0.3"; the proxies appended what they saw.
    spoofed = await ask("10.0.0.1", "10.0.0.0/8", {XFF: "127.0.0.1, 10.0.0.3, 198.51.100.7"})
    assert spoofed["address"] == "198.51.100.7" and not spoofed["local"]

    through_two = await ask("127.0.0.1", "127.0.0.1, 10.0.0.0/8", {XFF: "203.0.113.9, 10.0.0.5"})
    assert through_two["address"] == "203.0.113.9"

    # Every hop a trusted proxy: the first is where the request started.
    assert (await ask("10.0.0.1", "10.0.0.0/8", {XFF: "10.0.0.7, 10.0.0.8"}))["address"] == (
        "10.0.0.7"
    )

    # An untrusted peer's chain is not read at all, whatever it says.
    other = await ask("198.51.100.7", "10.0.0.0/8", {XFF: "10.0.0.1"})
    assert other["address"] == "198.51.100.7"


@pytest.mark.parametrize(
    "header", ["not-an-ip", "203.0.113.9,", "unknown", "203.0.113.9:443", "[::1]", " , ", "1.2.3"]
)
async def test_a_malformed_header_is_not_believed(ask, header):
    found = await ask("127.0.0.1", "127.0.0.1", {XFF: header})
    assert found["address"] == "127.0.0.1"  # the proxy itself, for the log
    assert found["unread"] and not found["local"]


async def test_a_trusted_proxy_that_names_nobody_is_not_local(ask):
    assert (await ask("127.0.0.1", "127.0.0.1"))["local"] is False


@pytest.mark.parametrize("peer", ["::1", "::ffff:127.0.0.1", "127.3.4.5"])
async def test_loopback_in_every_form_is_local(ask, peer):
    found = await ask(peer)
    assert found["local"] is True
    if peer.startswith("::ffff:"):
        assert found["address"] == "127.0.0.1"


async def test_ipv6_and_mapped_addresses_in_the_chain(ask):
    assert (await ask("::1", "::1", {XFF: "2001:db8::7"}))["address"] == "2001:db8::7"
    assert (await ask("::1", "::1", {XFF: "::ffff:203.0.113.9"}))["address"] == "203.0.113.9"
    # A mapped peer matches the IPv4 network it maps to.
    mapped = await ask("::ffff:10.0.0.1", "10.0.0.0/8", {XFF: "2001:db8::7, 10.0.0.9"})
    assert mapped["address"] == "2001:db8::7"
    assert (await ask("2001:db8::1"))["local"] is False


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("review.example.com", False),
    ],
)
def test_which_hosts_listen_on_loopback_only(host, loopback):
    assert remote.loopback_host(host) is loopback
