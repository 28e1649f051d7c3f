"""Webhook targets: IPv6 addresses that carry an IPv4 address are judged by the IPv4 inside.

Only the classification is tested here, in-process: nothing connects anywhere."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from escalated.safe_http import UnsafeTarget, check_url, public_address, resolve

# (IPv6 form, what it carries) for a loopback, a private, a link-local (cloud metadata) and a
# public IPv4 address.
CARRIERS = [
    ("::ffff:{v4}", "IPv4-mapped"),
    ("::ffff:0:{v4}", "IPv4-translated"),
    ("::{v4}", "IPv4-compatible"),
    ("64:ff9b::{v4}", "NAT64 well-known prefix"),
]
PRIVATE = ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "100.64.0.1", "0.0.0.0"]
PUBLIC = "8.8.8.8"


def _six_to_four(v4: str) -> str:
    packed = int(ipaddress.IPv4Address(v4))
    return str(ipaddress.IPv6Address((0x2002 << 112) | (packed << 80) | 1))


def _teredo(server: str, client: str) -> str:
    obfuscated = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64) | obfuscated
    return str(ipaddress.IPv6Address(value))


@pytest.mark.parametrize("v4", PRIVATE)
@pytest.mark.parametrize(("form", "name"), CARRIERS)
def test_an_ipv6_form_carrying_a_private_ipv4_is_refused(form: str, name: str, v4: str) -> None:
    assert not public_address(ipaddress.ip_address(form.format(v4=v4))), name


@pytest.mark.parametrize(("form", "name"), CARRIERS)
def test_an_ipv6_form_carrying_a_public_ipv4_is_judged_public(form: str, name: str) -> None:
    address = ipaddress.ip_address(form.format(v4=PUBLIC))
    assert public_address(address), name


@pytest.mark.parametrize("v4", PRIVATE)
def test_six_to_four_is_judged_by_its_gateway(v4: str) -> None:
    assert not public_address(ipaddress.ip_address(_six_to_four(v4)))
    assert public_address(ipaddress.ip_address(_six_to_four(PUBLIC)))


@pytest.mark.parametrize("v4", PRIVATE)
def test_teredo_is_judged_by_its_server_and_its_client(v4: str) -> None:
    assert not public_address(ipaddress.ip_address(_teredo(PUBLIC, v4)))
    assert not public_address(ipaddress.ip_address(_teredo(v4, PUBLIC)))
    assert public_address(ipaddress.ip_address(_teredo(PUBLIC, "1.1.1.1")))


def test_the_nat64_local_use_prefix_is_refused_whatever_it_carries() -> None:
    for address in ("64:ff9b:1::808:808", "64:ff9b:1:808:8:800::", "64:ff9b:1::7f00:1"):
        assert not public_address(ipaddress.ip_address(address))


def test_plain_addresses_are_judged_as_before() -> None:
    assert public_address(ipaddress.ip_address("2606:4700:4700::1111"))
    assert public_address(ipaddress.ip_address(PUBLIC))
    for address in ("::1", "::", "fe80::1", "fc00::1", "ff02::1", "224.0.0.1"):
        assert not public_address(ipaddress.ip_address(address))


def test_a_literal_carrier_in_a_url_is_refused_when_saved() -> None:
    with pytest.raises(UnsafeTarget):
        check_url("https://[64:ff9b::a9fe:a9fe]/latest", require_https=True, allow_private=False)


def test_a_name_resolving_to_a_carrier_is_refused_before_connecting(monkeypatch: Any) -> None:
    answers = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (_six_to_four("10.0.0.1"), 443, 0, 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)

    with pytest.raises(UnsafeTarget):
        resolve("hooks.example.com", 443, allow_private=False)
