"""Linode bodies turned into models: instances, types, images, regions, SSH keys."""

from __future__ import annotations

import ipaddress
import math
import socket
import sys
from collections.abc import Mapping
from typing import Any

from cloudkit.drivers.linode.base import LinodeDriverBase
from cloudkit.errors import MalformedResponseError, ValidationError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from cloudkit.parsing import as_dict, as_list, parse_datetime, parser, req, req_id
from cloudkit.sshkeys import fingerprint_md5

_PRIVATE_V4 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_PRIVATE_V4_RANGES = tuple((int(n.network_address), int(n.broadcast_address)) for n in _PRIVATE_V4)


def _intern(value: str) -> str:
    """One shared object for equal strings (exact ``str`` only; subclasses pass through)."""
    return sys.intern(value) if type(value) is str else value


def _opt_str(data: Mapping[str, Any], key: str, what: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedResponseError(f"{what}: field '{key}' has type {type(value).__name__}")
    return value


def _opt_int(data: Mapping[str, Any], key: str, what: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedResponseError(f"{what}: field '{key}' has type {type(value).__name__}")
    return int(value)


def _opt_num(data: Mapping[str, Any], key: str, what: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedResponseError(f"{what}: field '{key}' has type {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise MalformedResponseError(f"{what}: field '{key}' is not a finite number")
    return number


def _str_items(data: Mapping[str, Any], key: str, what: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        as_list(value, f"{what}.{key}")  # raises, naming the field
    for item in value:
        if not isinstance(item, str):
            raise MalformedResponseError(f"{what}: {key} holds a {type(item).__name__}")
    return list(value)


def _opt_id(data: Mapping[str, Any], key: str, what: str) -> str | None:
    """An optional id field: a string without surrounding blanks (interned: a listing's
    Linodes share a few types and images), None when absent or blank."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedResponseError(f"{what}: field '{key}' has type {type(value).__name__}")
    value = value.strip()
    return _intern(value) if value else None


#: Instance fields kept as they are in ``Node.extra`` (when present).
_INSTANCE_EXTRAS = ("hypervisor", "group", "host_uuid", "watchdog_enabled", "has_user_data", "lke_cluster_id",
                    "alerts", "backups", "placement_group", "capabilities", "disk_encryption",
                    "maintenance_policy", "interface_generation")
#: Of those, the strings most Linodes share (interned).
_SHARED_VALUES = frozenset({"hypervisor", "group", "disk_encryption", "interface_generation"})
#: (field, shared?) for each of ``_INSTANCE_EXTRAS``, in order.
_INSTANCE_EXTRA_KEYS = tuple((key, key in _SHARED_VALUES) for key in _INSTANCE_EXTRAS)


#: Shared objects for the figures a listing's Linodes repeat (see ``_to_node``); bounded.
_SHARED_INTS: dict[int, int] = {}
_FLOAT_OF: dict[int, float] = {}
_SHARED_ALERTS = ("cpu", "io")


def _sub(data: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    return value if isinstance(value, dict) else as_dict(value, f"{what}.{key}")


def _mb_to_gb(mb: int | None) -> int:
    return 0 if mb is None else round(mb / 1024)


def _prefix_length(address: str | None) -> int | None:
    if not address or "/" not in address:
        return None
    suffix = address.rsplit("/", 1)[1]
    return int(suffix) if suffix.isdigit() and len(suffix) <= 3 else None


#: Every RFC 1918 address, written the only way ``ipaddress`` and ``inet_pton`` accept (four
#: decimal octets, no leading zeros), starts with one of these.
_PRIVATE_V4_PREFIXES = ("10.", "172.", "192.168.")


def _is_private_v4(address: str) -> bool:
    if not address.startswith(_PRIVATE_V4_PREFIXES):
        return False  # most addresses a listing holds are public: no parsing needed
    host = address.split("/", 1)[0]
    try:
        # inet_pton is ~10x quicker than ipaddress (a listing checks every address of every
        # Linode) and accepts exactly the dotted quads ipaddress does.
        value = int.from_bytes(socket.inet_pton(socket.AF_INET, host), "big")
    except (OSError, ValueError):
        try:
            value = int(ipaddress.IPv4Address(host))
        except ValueError:
            return False
    for low, high in _PRIVATE_V4_RANGES:
        if low <= value <= high:
            return True
    return False


class LinodeParsing(LinodeDriverBase):
    """The ``_to_*`` functions: plain dicts from the API to cloudkit models."""

    @parser("Linode instance")
    def _to_node(self, data: Any) -> Node:
        # Every Linode of every listing comes through here: the usual value of each field (its
        # exact JSON type) is taken inline, and only an unusual one goes through the helper that
        # checks it (and raises MalformedResponseError naming it). Same result either way.
        what = "Linode instance"
        obj = data if type(data) is dict else as_dict(data, what)
        get = obj.get
        raw_id = get("id")
        node_id = str(raw_id) if type(raw_id) is int else req_id(obj, "id", what)
        label = get("label")
        if type(label) is not str:
            label = req(obj, "label", str, what)
        # Values most Linodes share are interned: one string object for a whole listing.
        status = get("status")
        status = sys.intern(status) if type(status) is str else _intern(req(obj, "status", str, what))
        ipv4 = get("ipv4")
        if type(ipv4) is not list:
            ipv4 = _str_items(obj, "ipv4", what)  # [] for None, else MalformedResponseError
        address = ipv4[0] if len(ipv4) == 1 else None
        if type(address) is str and "/" not in address:
            # The usual Linode: one address. Lists made to size (a list grown by append keeps
            # room for four), which adds up over a large account.
            if _is_private_v4(address):
                public_ips, private_ips = [], [address]
            else:
                public_ips, private_ips = [address], []
        else:
            public_ips, private_ips = [], []
            for address in ipv4:
                if type(address) is not str:
                    _str_items(obj, "ipv4", what)  # names the odd item (a str subclass passes)
                if "/" in address or type(address) is not str:
                    address = address.split("/", 1)[0]
                (private_ips if _is_private_v4(address) else public_ips).append(address)
        ipv6_raw = get("ipv6")
        if ipv6_raw is not None and type(ipv6_raw) is not str:
            ipv6_raw = _opt_str(obj, "ipv6", what)
        specs = get("specs")
        if type(specs) is not dict:
            specs = _sub(obj, "specs", what)
        type_id = get("type")
        if type(type_id) is str:
            type_id = sys.intern(type_id.strip()) or None  # as _opt_id does, without the call
        elif type_id is not None:
            type_id = _opt_id(obj, "type", what)
        size = None
        if type_id is not None:
            memory, disk = specs.get("memory"), specs.get("disk")
            transfer, vcpus = specs.get("transfer"), specs.get("vcpus")
            # The specs of a type repeat across a listing: one shared object per figure, in
            # specs and in the size (numbers are immutable: sharing them only saves memory).
            if type(memory) is int:
                memory = specs["memory"] = _SHARED_INTS.setdefault(memory, memory)
            else:
                memory = _opt_int(specs, "memory", what)
            if type(disk) is int:
                disk = specs["disk"] = _SHARED_INTS.setdefault(disk, disk)
            else:
                disk = _opt_int(specs, "disk", what)
            if type(transfer) is int:
                transfer = specs["transfer"] = _SHARED_INTS.setdefault(transfer, transfer)
                bandwidth = _FLOAT_OF.get(transfer)
                if bandwidth is None:
                    bandwidth = _FLOAT_OF[transfer] = float(transfer)
            else:
                bandwidth = _opt_num(specs, "transfer", what)
            if len(_SHARED_INTS) > 512:
                _SHARED_INTS.clear()
                _FLOAT_OF.clear()
            if type(vcpus) is not int:
                vcpus = _opt_int(specs, "vcpus", what)
            size = NodeSize(type_id, type_id, memory or 0, 0 if disk is None else round(disk / 1024), bandwidth,
                            None, self, {"gpus": specs.get("gpus")}, vcpus)
        image_id = get("image")
        if type(image_id) is str:
            image_id = sys.intern(image_id.strip()) or None
        elif image_id is not None:
            image_id = _opt_id(obj, "image", what)
        region = get("region")
        if type(region) is str:
            region = sys.intern(region)
        elif region is not None:
            checked = _opt_str(obj, "region", what)  # raises: not a string
            region = None if checked is None else _intern(checked)
        created_text, updated_text = get("created"), get("updated")
        created = parse_datetime(created_text)
        # A Linode never changed since it was made has the same text in both: one object.
        updated = created if updated_text == created_text and type(updated_text) is str else parse_datetime(
            updated_text)
        extra: dict[str, Any] = {
            "status": status,
            "location": region,
            "size": type_id,
            "image": image_id,
            "ipv6": ipv6_raw.split("/", 1)[0] if ipv6_raw else None,
            "ipv6_prefix_length": _prefix_length(ipv6_raw),
            "updated": updated,
            "specs": specs,
        }
        for key, shared in _INSTANCE_EXTRA_KEYS:
            if key in obj:
                value = obj[key]
                extra[key] = sys.intern(value) if shared and type(value) is str else value
        alerts = get("alerts")
        if type(alerts) is dict:
            # Alert thresholds are mostly the defaults (io 10000, cpu 90 per vCPU): shared too.
            for key in _SHARED_ALERTS:
                value = alerts.get(key)
                if type(value) is int:
                    alerts[key] = _SHARED_INTS.setdefault(value, value)
        tags = get("tags")
        return Node(node_id, label, self._state(status), public_ips, private_ips, self, size,
                    NodeImage(image_id, image_id, self) if image_id is not None else None,
                    extra, created, [] if tags == [] else _str_items(obj, "tags", what))

    @parser("Linode type")
    def _to_size(self, data: Any, region: str | None = None) -> NodeSize:
        what = "Linode type"
        obj = as_dict(data, what)
        type_id = req_id(obj, "id", what)
        price = _sub(obj, "price", what)
        hourly = _opt_num(price, "hourly", what)
        monthly = _opt_num(price, "monthly", what)
        region_prices = as_list(obj.get("region_prices") or [], f"{what}.region_prices")
        for entry in region_prices:
            entry = as_dict(entry, f"{what}.region_prices[]")
            if region is not None and entry.get("id") == region:
                hourly = _opt_num(entry, "hourly", what)
                monthly = _opt_num(entry, "monthly", what)
        extra: dict[str, Any] = {
            "class": _opt_str(obj, "class", what),
            "monthly_price": monthly,
            "price": price,
            "region_prices": region_prices,
            "transfer": _opt_int(obj, "transfer", what),
            "network_out": _opt_int(obj, "network_out", what),
            "disk_mb": _opt_int(obj, "disk", what),
            "gpus": _opt_int(obj, "gpus", what),
            "successor": _opt_str(obj, "successor", what),
            "addons": _sub(obj, "addons", what),
        }
        if region is not None:
            extra["region"] = region
        return NodeSize(type_id, _opt_str(obj, "label", what) or type_id, _opt_int(obj, "memory", what) or 0,
                        _mb_to_gb(_opt_int(obj, "disk", what)), _opt_num(obj, "transfer", what), hourly,
                        self, extra, _opt_int(obj, "vcpus", what))

    @parser("Linode image")
    def _to_image(self, data: Any) -> NodeImage:
        what = "Linode image"
        obj = as_dict(data, what)
        image_id = req_id(obj, "id", what)
        regions = []
        for entry in as_list(obj.get("regions") or [], f"{what}.regions"):
            region = as_dict(entry, f"{what}.regions[]").get("region")
            if isinstance(region, str):
                regions.append(region)
        extra: dict[str, Any] = {
            "vendor": _opt_str(obj, "vendor", what),
            "description": _opt_str(obj, "description", what),
            "is_public": obj.get("is_public") is True,
            "deprecated": obj.get("deprecated") is True,
            "size": _opt_int(obj, "size", what),
            "total_size": _opt_int(obj, "total_size", what),
            "type": _opt_str(obj, "type", what),
            "status": _opt_str(obj, "status", what),
            "created": parse_datetime(obj.get("created")),
            "created_by": _opt_str(obj, "created_by", what),
            "eol": parse_datetime(obj.get("eol")),
            "expiry": parse_datetime(obj.get("expiry")),
            "capabilities": _str_items(obj, "capabilities", what),
            "tags": _str_items(obj, "tags", what),
            "regions": regions,
        }
        return NodeImage(image_id, _opt_str(obj, "label", what) or image_id, self, extra)

    @parser("Linode region")
    def _to_location(self, data: Any) -> NodeLocation:
        what = "Linode region"
        obj = as_dict(data, what)
        region_id = req_id(obj, "id", what)
        country = _opt_str(obj, "country", what)
        extra: dict[str, Any] = {
            "label": _opt_str(obj, "label", what),
            "status": _opt_str(obj, "status", what),
            "capabilities": _str_items(obj, "capabilities", what),
            "resolvers": _sub(obj, "resolvers", what),
            "site_type": _opt_str(obj, "site_type", what),
        }
        return NodeLocation(region_id, _opt_str(obj, "label", what) or region_id,
                            country.upper() if country else None, self, extra)

    @parser("Linode SSH key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        what = "Linode SSH key"
        obj = as_dict(data, what)
        key_id = req_id(obj, "id", what)
        public_key = req(obj, "ssh_key", str, what)
        try:
            fingerprint: str | None = fingerprint_md5(public_key)
        except ValidationError:
            fingerprint = None
        return KeyPair(_opt_str(obj, "label", what) or "", public_key, fingerprint, self, id=str(key_id),
                       extra={"created": parse_datetime(obj.get("created"))})
