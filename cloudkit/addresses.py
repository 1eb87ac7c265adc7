"""The one rule for a node's private and public addresses (``cloudkit.parsing`` re-exports it)."""

from __future__ import annotations

import ipaddress
import socket
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
_V4_RANGES = tuple((int(n.network_address), int(n.broadcast_address)) for n in PRIVATE_NETWORKS if n.version == 4)
#: First octet -> the private ranges that start with it (most first octets have none).
_V4_BY_OCTET = {octet: tuple((low, high) for low, high in _V4_RANGES if low >> 24 <= octet <= high >> 24)
                for octet in range(256)}
_V4_BY_OCTET = {octet: ranges for octet, ranges in _V4_BY_OCTET.items() if ranges}
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
    if ":" not in host:
        if host[:host.find(".")] not in _PRIVATE_FIRST:  # most addresses: public, nothing to parse
            return False
        try:
            # inet_pton is ~10x quicker than ipaddress (listings check every address) and accepts
            # exactly the dotted quads ipaddress does; anything else is not an IPv4 address.
            value = int.from_bytes(_INET_PTON(_AF_INET, host), "big")
        except (OSError, ValueError):
            return False
        for low, high in _V4_BY_OCTET.get(value >> 24, ()):  # most addresses: none to check
            if low <= value <= high:
                return True
        return False
    try:
        ip = ipaddress.IPv6Address(host)
    except ValueError:
        return False
    if ip.ipv4_mapped is not None:
        return is_private_ip(str(ip.ipv4_mapped))
    return any(ip in net for net in _V6_NETWORKS)


def split_ips(addresses: list[str], *, drop_prefix: bool = False) -> tuple[list[str], list[str]]:
    """Split addresses into (public, private) lists, keeping their order; with ``drop_prefix``
    ``"192.168.1.2/17"`` is listed as ``"192.168.1.2"``."""
    # The first-octet test is is_private_ip's own first step, taken here without the call.
    if len(addresses) == 1:  # the usual node: lists made to size (append keeps room for four)
        address = addresses[0]
        if drop_prefix and "/" in address:
            address = address.split("/", 1)[0]
        if ":" not in address and address[:address.find(".")] not in _PRIVATE_FIRST:
            return [address], []
        return ([], [address]) if is_private_ip(address) else ([address], [])
    public: list[str] = []
    private: list[str] = []
    for address in addresses:
        if drop_prefix and "/" in address:
            address = address.split("/", 1)[0]
        if ":" not in address and address[:address.find(".")] not in _PRIVATE_FIRST:
            public.append(address)
        else:
            (private if is_private_ip(address) else public).append(address)
    return public, private



def split_texts(value: Any) -> tuple[list[str], list[str]] | None:
    """``split_ips(value, drop_prefix=True)`` when ``value`` is a list of text, else None: the
    check and the split in one pass (``FieldMap``'s kind ``ADDRESSES`` reads every node's)."""
    if type(value) is not list:
        return None
    if len(value) == 1:
        return split_ips(value, drop_prefix=True) if type(value[0]) is str else None
    public: list[str] = []
    private: list[str] = []
    for address in value:
        if type(address) is not str:
            return None
        if "/" in address:
            address = address.split("/", 1)[0]
        if ":" not in address and address[:address.find(".")] not in _PRIVATE_FIRST:
            public.append(address)
        else:
            (private if is_private_ip(address) else public).append(address)
    return public, private
