"""The one private-address rule (``cloudkit.parsing.is_private_ip``, inet_pton fast path) agrees
with ``ipaddress`` on the networks it names, and Linode uses it.

Issue 17 made the Linode driver's own RFC 1918-only check give way to the shared rule, which
every other driver already used: link-local (169.254/16) and the other non-global ranges count
as private too (no route from the internet reaches them, which is what providers mean by a
private address), so ``fd00::1`` and ``::ffff:10.0.0.1`` below are now private.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudkit.addresses import is_private_ip, split_ips, split_texts
from cloudkit.drivers.linode import LinodeNodeDriver

_NETS = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/29", "192.0.0.170/31",
    "192.168.0.0/16", "198.18.0.0/15", "240.0.0.0/4", "::/128", "100::/64", "2001::/23", "fc00::/7", "fe80::/10")]


def reference(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("/", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in _NETS)


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from(["", "/24", "/32", "/x"]))
def test_every_ipv4_address_is_classified_like_ipaddress(value: int, suffix: str) -> None:
    text = str(ipaddress.IPv4Address(value)) + suffix
    assert is_private_ip(text) is reference(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_every_ipv6_address_is_classified_like_ipaddress(value: int) -> None:
    text = str(ipaddress.IPv6Address(value))
    assert is_private_ip(text) is reference(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789./:abcdefx ", max_size=20))
def test_odd_text_is_classified_like_ipaddress(text: str) -> None:
    assert is_private_ip(text) is reference(text)


_ADDRESS = st.one_of(
    st.builds(lambda v, suffix: str(ipaddress.IPv4Address(v)) + suffix, st.integers(0, 2**32 - 1),
              st.sampled_from(["", "/24", "/x"])),
    st.builds(lambda v: str(ipaddress.IPv6Address(v)), st.integers(0, 2**128 - 1)),
    st.sampled_from(["192.168.1.1/17", "::ffff:10.0.0.1", "10.0.0", "", "fd00::1/64"]),
    st.text(alphabet="0123456789./:abcdefx ", max_size=20))


@settings(max_examples=300, deadline=None)
@given(st.lists(_ADDRESS, max_size=4), st.booleans())
def test_splitting_a_list_follows_the_rule(addresses: list[str], drop_prefix: bool) -> None:
    shown = [a.split("/", 1)[0] if drop_prefix else a for a in addresses]
    expected = ([s for a, s in zip(addresses, shown, strict=True) if not is_private_ip(a)],
                [s for a, s in zip(addresses, shown, strict=True) if is_private_ip(a)])
    assert split_ips(addresses, drop_prefix=drop_prefix) == expected
    assert split_ips(tuple(addresses), drop_prefix=drop_prefix) == expected
    assert split_texts(list(addresses), drop_prefix=drop_prefix) == expected


def test_splitting_refuses_what_is_not_text() -> None:
    assert split_texts(["10.0.0.1", 7]) is None
    assert split_texts([None]) is None
    assert split_texts("10.0.0.1") is None
    with pytest.raises(TypeError):
        split_ips(["10.0.0.1", b"10.0.0.2"])  # type: ignore[list-item]  # the wrong type is the test


def test_a_str_subclass_is_split_as_its_text() -> None:
    class Text(str):
        pass

    public, private = split_ips([Text("10.0.0.1/8"), "8.8.8.8"], drop_prefix=True)
    assert (public, private) == (["8.8.8.8"], ["10.0.0.1"])
    assert type(private[0]) is str
    assert split_texts([Text("10.0.0.1")]) is None  # the fast path takes exact text only


def test_edges() -> None:
    for text, private in [("10.0.0.0", True), ("10.255.255.255", True), ("11.0.0.0", False),
                          ("172.15.255.255", False), ("172.16.0.0", True), ("172.31.255.255", True),
                          ("172.32.0.0", False), ("192.168.0.0", True), ("192.168.255.255", True),
                          ("192.169.0.0", False), ("127.0.0.1", False), ("010.0.0.1", False),
                          ("10.0.0", False), ("::ffff:10.0.0.1", True), ("fd00::1", True), ("", False),
                          ("\uff11\uff10.0.0.1", False), ("192.168.1.1/17", True), ("169.254.10.1", True),
                          ("192.0.2.1", False), ("2001:db8::1", False), ("fe80::1", True)]:
        assert is_private_ip(text) is private, text
        assert reference(text) is private, text


def test_a_linode_uses_the_shared_rule() -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "linode" / "GET_v4_linode_instances_61234501.json"
    body = json.loads(fixture.read_text())
    body["ipv4"] = ["45.79.141.20", "192.168.139.17/17", "169.254.3.4"]
    node = LinodeNodeDriver("token")._to_node(body)
    assert node.public_ips == ["45.79.141.20"]
    assert node.private_ips == ["192.168.139.17", "169.254.3.4"]
