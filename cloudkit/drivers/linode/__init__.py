"""Linode (Akamai Cloud Computing) driver for API v4.

Follows ``shared/api/linode.md``: bearer-token auth on ``https://api.linode.com``, full
request paths (``/v4/linode/instances``), paged envelopes (``data``/``page``/``pages``,
``page_size`` 25..500), error bodies ``{"errors": [{"reason", "field"}]}``, timestamps
without offset (UTC). Semantics follow libcloud's ``LinodeNodeDriverV4`` where it has one:
node id = Linode id as text, name = label, IPv4 addresses split into public and private by
the RFC 1918 ranges (Linode's private addresses are in 192.168.128.0/17), size id = type id,
size price = ``price.hourly``, image id = image id (``linode/debian12``). Differences, on
purpose: disk is GB (the API gives MB), a location's name is the region's label, the SLAAC
IPv6 address is kept without its ``/128`` in ``extra["ipv6"]`` (IPv4-only ``public_ips``, as
libcloud), and the state map follows the fact sheet.
"""

from __future__ import annotations

from cloudkit.drivers.linode.connection import (
    API,
    NEEDED_SCOPES,
    PAGE_SIZE,
    LinodeConnection,
    LinodeResponse,
    _page_items,
    _total_items,
    _total_pages,
    missing_scopes,
)
from cloudkit.drivers.linode.disks import LINODE_DISK_FILESYSTEMS, LinodeDisk
from cloudkit.drivers.linode.driver import LINODE_NODE_ACTIONS, LINODE_STATE_MAP, LinodeNodeDriver
from cloudkit.drivers.linode.rules import generate_root_password, validate_label

__all__ = [
    "API",
    "LINODE_DISK_FILESYSTEMS",
    "LINODE_NODE_ACTIONS",
    "LINODE_STATE_MAP",
    "NEEDED_SCOPES",
    "PAGE_SIZE",
    "LinodeConnection",
    "LinodeDisk",
    "LinodeNodeDriver",
    "LinodeResponse",
    "_page_items",
    "_total_items",
    "_total_pages",
    "generate_root_password",
    "missing_scopes",
    "validate_label",
]
