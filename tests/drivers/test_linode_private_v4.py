"""The Linode driver's private-address check (inet_pton fast path) agrees with ipaddress."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudkit.drivers.linode import _is_private_v4

_NETS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]


def reference(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("/", 1)[0])
    except ValueError:
        return False
    return ip.version == 4 and any(ip in net for net in _NETS)


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from(["", "/24", "/32", "/x"]))
def test_every_ipv4_address_is_classified_like_ipaddress(value: int, suffix: str) -> None:
    text = str(ipaddress.IPv4Address(value)) + suffix
    assert _is_private_v4(text) is reference(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789./:abcdefx ", max_size=20))
def test_odd_text_is_classified_like_ipaddress(text: str) -> None:
    assert _is_private_v4(text) is reference(text)


def test_edges() -> None:
    for text, private in [("10.0.0.0", True), ("10.255.255.255", True), ("11.0.0.0", False),
                          ("172.15.255.255", False), ("172.16.0.0", True), ("172.31.255.255", True),
                          ("172.32.0.0", False), ("192.168.0.0", True), ("192.168.255.255", True),
                          ("192.169.0.0", False), ("127.0.0.1", False), ("010.0.0.1", False),
                          ("10.0.0", False), ("::ffff:10.0.0.1", False), ("fd00::1", False), ("", False),
                          ("\uff11\uff10.0.0.1", False), ("192.168.1.1/17", True)]:
        assert _is_private_v4(text) is private, text
        assert reference(text) is private, text
