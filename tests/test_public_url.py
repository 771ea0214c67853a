"""Whether GitHub could reach a public base URL: what the setup page and `register` warn of."""

from __future__ import annotations

import pytest

from bot.app.public_url import PRIVATE_NETWORK, warnings

LOOPBACK = "loopback address"
PRIVATE = "private-network address"
LOCAL_NAME = "a name only a local network resolves"
NO_DOMAIN = "has no domain"
THIS_MACHINE = "is this machine"
PLAIN = "plain http://"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080", [LOOPBACK, PLAIN]),
        ("https://127.8.9.10", [LOOPBACK]),
        ("https://[::1]:8443", [LOOPBACK]),
        ("https://[::ffff:127.0.0.1]", [LOOPBACK]),
        ("https://10.1.2.3", [PRIVATE]),
        ("https://172.16.0.1", [PRIVATE]),
        ("https://192.168.1.20:8443", [PRIVATE]),
        ("https://100.64.0.7", [PRIVATE]),  # carrier-grade NAT, Tailscale
        ("https://[fd12:3456::1]", [PRIVATE]),
        ("https://[::ffff:10.0.0.5]", [PRIVATE]),
        ("https://169.254.1.1", ["link-local"]),
        ("https://[fe80::1]", ["link-local"]),
        ("https://0.0.0.0:8080", ["unspecified"]),
        ("http://localhost:8080", [THIS_MACHINE, PLAIN]),
        ("https://LOCALHOST.", [THIS_MACHINE]),
        ("https://review.localhost", [THIS_MACHINE]),
        ("https://reviewbox.local", [LOCAL_NAME]),
        ("https://bot.corp.internal", [LOCAL_NAME]),
        ("https://bot.home.arpa", [LOCAL_NAME]),
        ("https://gitbox.lan:8443", [LOCAL_NAME]),
        ("https://reviewbox", [NO_DOMAIN]),
        ("http://bot.example.com", [PLAIN]),
        ("https://bot.example.com", []),
        ("https://abc-def.trycloudflare.com", []),
        ("https://140.82.112.3", []),  # a global address
        ("https://[2606:4700::1111]", []),
    ],
)
def test_what_github_could_not_reach_is_warned_of(url: str, expected: list[str]):
    found = warnings(url, 8080)

    assert len(found) == len(expected), found
    for warning, words in zip(found, expected, strict=True):
        assert words in warning


def test_a_host_github_cannot_reach_names_the_webhook_url_and_a_tunnel():
    (warning,) = warnings("https://localhost:9000/", 9000)

    assert warning.startswith(
        "GitHub sends webhooks to https://localhost:9000/webhooks and cannot reach it: "
    )
    assert "`cloudflared tunnel --url http://localhost:9000`" in warning
    assert "smee.io" in warning
    assert PRIVATE_NETWORK not in warning  # no server in a private network reaches loopback


def test_a_private_address_is_legitimate_for_a_server_in_that_network():
    (warning,) = warnings("https://10.0.0.5", 8080)

    assert PRIVATE_NETWORK in warning
    assert "GitHub Enterprise Server" in warning


def test_a_webhook_url_elsewhere_is_the_one_judged():
    assert warnings("https://localhost", 8080, "https://smee.io/AbCdEf") == []
    (warning,) = warnings("https://bot.example.com", 8080, "https://hooks.lan/in")
    assert "https://hooks.lan/in" in warning
