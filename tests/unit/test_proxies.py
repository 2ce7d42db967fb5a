"""Forwarded headers count only from trusted proxy addresses, and `TRUSTED_PROXIES` is checked at load."""

from __future__ import annotations

import ipaddress

import pytest

from plivo_otp_app.config import ConfigError, load_settings
from plivo_otp_app.proxies import client_address, request_origin

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1"))
PROXIES = (ipaddress.ip_network("10.0.0.0/24"),)


def test_without_hops_forwarded_for_is_ignored():
    assert client_address("10.0.0.1", "203.0.113.99", 0, PROXIES) == "10.0.0.1"
    assert client_address(None, "203.0.113.99", 0, PROXIES) == "unknown"


def test_a_peer_that_is_not_a_proxy_chooses_nothing_with_forwarded_for():
    assert client_address("198.51.100.1", "203.0.113.99", 1, PROXIES) == "198.51.100.1"
    assert client_address("198.51.100.1", "1.1.1.1, 2.2.2.2", 2, PROXIES) == "198.51.100.1"


def test_a_trusted_proxy_names_the_client():
    assert client_address("10.0.0.1", "203.0.113.99, 198.51.100.7", 1, PROXIES) == "198.51.100.7"
    assert client_address("10.0.0.1", " 198.51.100.7 ", 1, PROXIES) == "198.51.100.7"
    assert client_address("::ffff:10.0.0.1", "198.51.100.7", 1, PROXIES) == "198.51.100.7"


def test_two_hops_walk_back_only_through_trusted_proxies():
    assert client_address("10.0.0.1", "203.0.113.99, 198.51.100.7, 10.0.0.2", 2, PROXIES) == "198.51.100.7"
    # Past the outer proxy: the inner one saw the client itself, whatever the client wrote before.
    assert client_address("10.0.0.1", "203.0.113.99, 198.51.100.7", 2, PROXIES) == "198.51.100.7"


def test_never_more_hops_than_configured():
    assert client_address("10.0.0.1", "203.0.113.99, 10.0.0.3, 10.0.0.2", 2, PROXIES) == "10.0.0.3"


def test_an_empty_chain_leaves_the_peer():
    assert client_address("10.0.0.1", "", 1, PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.1", " , ,", 1, PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.1", None, 1, PROXIES) == "10.0.0.1"


def test_trusted_proxies_default_to_loopback():
    assert load_settings({}).infra.trusted_proxies == LOOPBACK


def test_trusted_proxies_accept_addresses_and_networks():
    settings = load_settings({"TRUSTED_PROXIES": "10.0.0.7, 192.168.0.0/16,2001:db8::/32"})
    assert settings.infra.trusted_proxies == (
        ipaddress.ip_network("10.0.0.7/32"),
        ipaddress.ip_network("192.168.0.0/16"),
        ipaddress.ip_network("2001:db8::/32"),
    )


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.internal", "10.0.0.1;10.0.0.2"])
def test_a_bad_trusted_proxies_fails_at_load_naming_it(value):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings({"TRUSTED_PROXIES": value})


def _scope(peer: str, headers: dict[str, str], scheme: str = "http") -> dict[str, object]:
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    return {"type": "http", "scheme": scheme, "client": (peer, 5000), "headers": raw}


def test_the_request_origin_is_its_host_and_scheme():
    assert request_origin(_scope("198.51.100.1", {"host": "App.Example:8080"})) == "http://app.example:8080"
    assert (
        request_origin(_scope("198.51.100.1", {"host": "app.example:443"}, "https")) == "https://app.example"
    )
    assert request_origin(_scope("198.51.100.1", {})) is None
