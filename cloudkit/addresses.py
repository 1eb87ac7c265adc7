"""The one rule for a node's private and public addresses (``cloudkit.parsing`` re-exports it)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

__all__ = ["PRIVATE_NETWORKS", "is_private_ip", "split_ips", "split_texts"]

#: The one rule for a node's private addresses, the same in every driver: not reachable from the
#: internet. RFC 1918, link-local (169.254/16, fe80::/10), unique-local (fc00::/7) and the other
#: special-purpose ranges IANA marks as not global (0/8, 192.0.0.0/29 and /31, 198.18/15 for
#: benchmarking, 240/4 reserved; IPv6 ::/128, 100::/64, 2001::/23; an IPv4-mapped address,
#: ``::ffff:a.b.c.d``, is what its IPv4 address is).
#: Public: everything else, loopback included (the simulator's 127.0.0.1 is a node's "public"
#: address) and the documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32,
#: which stand in for public addresses in examples and fixtures). Written out, not taken from
#: ``ipaddress.is_private``, whose list changes between Python versions.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "0.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/29", "192.0.0.170/31",
    "192.168.0.0/16", "198.18.0.0/15", "240.0.0.0/4",
    "::/128", "100::/64", "2001::/23", "fc00::/7", "fe80::/10"))


def _v4_ranges() -> dict[int, tuple[tuple[bytes, bytes], ...]]:
    """First octet -> the (low, high) packed bounds of the private ranges that start with it,
    widest first (packed addresses of one length compare as their numbers do)."""
    table: dict[int, tuple[tuple[bytes, bytes], ...]] = {}
    for net in sorted((n for n in PRIVATE_NETWORKS if n.version == 4), key=lambda n: n.prefixlen):
        low, high = net.network_address.packed, net.broadcast_address.packed
        for octet in range(low[0], high[0] + 1):
            bounds = (max(low, bytes((octet, 0, 0, 0))), min(high, bytes((octet, 255, 255, 255))))
            table[octet] = (*table.get(octet, ()), bounds)
    return table


_V4_BY_OCTET = _v4_ranges()  # most first octets have none
#: The first octets of those ranges as text: a dotted quad that starts with any other text is
#: public (or not an address), which the rule then says without parsing it.
_PRIVATE_FIRST = frozenset(str(octet) for octet in _V4_BY_OCTET)
_V6_NETWORKS = tuple(n for n in PRIVATE_NETWORKS if n.version == 6)
_INET_PTON = socket.inet_pton
_AF_INET = socket.AF_INET


def is_private_ip(address: str) -> bool:
    """True when ``address`` (text, an optional ``/prefix`` ignored) is private by the rule of
    ``PRIVATE_NETWORKS``; False for public addresses and for text that is not an address."""
    host = address.split("/", 1)[0] if "/" in address else address
    if ":" in host:
        return _private_v6(host)
    # most addresses: public by their first octet's text, nothing to parse
    return host[:host.find(".")] in _PRIVATE_FIRST and _private_v4(host)


def _private_v4(host: str) -> bool:
    try:
        # inet_pton is ~10x quicker than ipaddress (listings check every address) and accepts
        # exactly the dotted quads ipaddress does; anything else is not an IPv4 address.
        packed = _INET_PTON(_AF_INET, host)
    except (OSError, ValueError):
        return False
    for low, high in _V4_BY_OCTET.get(packed[0], ()):
        if low <= packed <= high:
            return True
    return False


def _private_v6(host: str) -> bool:
    try:
        ip = ipaddress.IPv6Address(host)
    except ValueError:
        return False
    if ip.ipv4_mapped is not None:
        return is_private_ip(str(ip.ipv4_mapped))
    return any(ip in net for net in _V6_NETWORKS)


def split_ips(addresses: Sequence[str], *, drop_prefix: bool = False) -> tuple[list[str], list[str]]:
    """Split addresses into (public, private) lists, keeping their order; with ``drop_prefix``
    ``"192.168.1.2/17"`` is listed as ``"192.168.1.2"``. TypeError when one is not text."""
    split = split_texts(addresses if type(addresses) is list else list(addresses), drop_prefix=drop_prefix)
    if split is not None:
        return split
    if not all(isinstance(address, str) for address in addresses):
        raise TypeError("an address is not text")
    # an item is a subclass of ``str``: read as its text
    return split_ips([str.__str__(address) for address in addresses], drop_prefix=drop_prefix)


def split_texts(value: Any, *, drop_prefix: bool = True) -> tuple[list[str], list[str]] | None:
    """``split_ips(value, drop_prefix=...)`` when ``value`` is a list of text, else None: the
    check and the split in one pass (``FieldMap``'s kind ``ADDRESSES`` reads every node's)."""
    if type(value) is not list:
        return None
    # is_private_ip's steps, inline: most addresses are public by their first octet's text.
    # The usual node has one address: answered without making the loop's lists, in lists made
    # to size (append keeps room for four). Its six lines repeat the loop's on purpose: a shared
    # helper would cost a call per address (+85 ns for one public address).
    if len(value) == 1:
        address = value[0]
        if type(address) is not str:
            return None
        host = address.split("/", 1)[0] if "/" in address else address
        if drop_prefix:
            address = host
        if ":" in host:
            return ([], [address]) if _private_v6(host) else ([address], [])
        if host[:host.find(".")] in _PRIVATE_FIRST and _private_v4(host):
            return [], [address]
        return [address], []
    public: list[str] = []
    private: list[str] = []
    for address in value:
        if type(address) is not str:
            return None
        host = address.split("/", 1)[0] if "/" in address else address
        if drop_prefix:
            address = host
        if ":" in host:
            (private if _private_v6(host) else public).append(address)
        elif host[:host.find(".")] in _PRIVATE_FIRST and _private_v4(host):
            private.append(address)
        else:
            public.append(address)
    return public, private
