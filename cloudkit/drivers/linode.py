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

import base64
import binascii
import ipaddress
import json
import math
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from cloudkit.connection import BearerTokenConnection
from cloudkit.driver import NodeDriver, object_id
from cloudkit.drivers._linode_storage import LinodeStorageMixin
from cloudkit.errors import ForbiddenError, MalformedResponseError, NotFoundError, ValidationError
from cloudkit.models import (
    KeyPair,
    Node,
    NodeAuthPassword,
    NodeAuthSSHKey,
    NodeImage,
    NodeLocation,
    NodeSize,
    NodeState,
)
from cloudkit.parsing import as_dict, as_list, parse_datetime, parser, req, req_id
from cloudkit.response import JsonResponse, parse_retry_after
from cloudkit.secrets_gen import generate_password
from cloudkit.sshkeys import fingerprint_md5, parse_public_key
from cloudkit.surface import alias

__all__ = [
    "LINODE_DISK_FILESYSTEMS",
    "LINODE_NODE_ACTIONS",
    "LINODE_STATE_MAP",
    "LinodeConnection",
    "LinodeDisk",
    "LinodeNodeDriver",
    "LinodeResponse",
    "generate_root_password",
    "validate_label",
]

API = "/v4"
#: Largest page the API hands out (``page_size`` 25..500).
PAGE_SIZE = 500

#: Every instance ``status`` the API documents (plus ``resizing``, seen from older API versions).
LINODE_STATE_MAP: dict[str, NodeState] = {
    "running": NodeState.RUNNING,
    "offline": NodeState.STOPPED,
    "stopped": NodeState.STOPPED,
    "booting": NodeState.STARTING,
    "rebooting": NodeState.REBOOTING,
    "shutting_down": NodeState.STOPPING,
    "provisioning": NodeState.PENDING,
    "busy": NodeState.PENDING,
    "rebuilding": NodeState.PENDING,
    "restoring": NodeState.PENDING,
    "cloning": NodeState.PENDING,
    "deleting": NodeState.PENDING,
    "migrating": NodeState.MIGRATING,
    "resizing": NodeState.RECONFIGURING,
    "billing_suspension": NodeState.SUSPENDED,
}

_ALWAYS = frozenset({"destroy_node", "ex_rename_node"})
#: Which actions make sense in which state (checked before any request; ``ex_force`` skips it).
#: Resize and rebuild work on a running or powered-off Linode (the API shuts it down itself)
#: but not while another job runs; start only when off; reboot and stop only when running.
LINODE_NODE_ACTIONS: dict[NodeState, frozenset[str]] = {
    NodeState.RUNNING: _ALWAYS | {"reboot_node", "stop_node", "ex_resize_node", "ex_rebuild_node"},
    NodeState.STOPPED: _ALWAYS | {"start_node", "ex_resize_node", "ex_rebuild_node"},
    NodeState.PENDING: _ALWAYS,
    NodeState.STARTING: _ALWAYS,
    NodeState.REBOOTING: _ALWAYS,
    NodeState.STOPPING: _ALWAYS,
    NodeState.MIGRATING: _ALWAYS,
    NodeState.RECONFIGURING: _ALWAYS,
    NodeState.SUSPENDED: _ALWAYS,
    NodeState.ERROR: _ALWAYS | {"reboot_node", "start_node", "stop_node"},
    NodeState.UNKNOWN: _ALWAYS | {"reboot_node", "start_node", "stop_node", "ex_resize_node",
                                  "ex_rebuild_node"},
    NodeState.TERMINATED: frozenset(),
}

#: The file systems a Linode disk can be made with.
LINODE_DISK_FILESYSTEMS = ("raw", "swap", "ext3", "ext4", "initrd")


@dataclass(eq=False, slots=True)
class LinodeDisk:
    """A disk of a Linode (libcloud's ``LinodeDisk``): ``size`` in MB, ``state`` the API's
    ``status`` (``ready``, ``not ready``, ``deleting``)."""

    id: str
    state: str
    name: str
    filesystem: str
    driver: Any
    size: int
    extra: dict[str, Any] = field(default_factory=dict)


_PRIVATE_V4 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_PRIVATE_V4_RANGES = tuple((int(n.network_address), int(n.broadcast_address)) for n in _PRIVATE_V4)


def _intern(value: str) -> str:
    """One shared object for equal strings (exact ``str`` only; subclasses pass through)."""
    return sys.intern(value) if type(value) is str else value


_LABEL_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_IMAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")
_PASSWORD_SYMBOLS = "-_.!@#%^*+=~"


# -- validation (client-side, before anything is sent) ----------------------------------------


def validate_label(label: Any, what: str = "Linode label") -> str:
    """Return ``label`` if it follows Linode's label rules, else raise ValidationError.

    3 to 64 characters; starts with a letter; then letters, digits, ``-``, ``_`` and ``.``;
    never two ``-``, ``_`` or ``.`` in a row (the API's pattern).
    """
    if not isinstance(label, str):
        raise ValidationError(f"{what} must be a string, not {type(label).__name__}")
    problems = []
    if not 3 <= len(label) <= 64:
        problems.append(f"must be 3 to 64 characters long (got {len(label)})")
    if not label[:1].isascii() or not label[:1].isalpha():
        problems.append("must start with a letter (a-z, A-Z)")
    if label and not _LABEL_CHARS.fullmatch(label):
        problems.append("may contain only letters, digits, '-', '_' and '.'")
    for pair in ("--", "__", ".."):
        if pair in label:
            problems.append(f"must not contain {pair!r}")
    if problems:
        raise ValidationError(f"invalid {what} {label[:80]!r}: " + "; ".join(problems))
    return label


def _validate_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not 3 <= len(tag) <= 50:
        shown = repr(tag[:60]) if isinstance(tag, str) else type(tag).__name__
        raise ValidationError(f"a Linode tag must be a string of 3 to 50 characters, not {shown}")
    return tag


def _validate_slug(value: str, kind: str, pattern: re.Pattern[str]) -> str:
    if len(value) > 128 or not pattern.fullmatch(value):
        raise ValidationError(f"invalid Linode {kind} id {value[:80]!r}")
    return value


def _linode_id(node: Node | str | int) -> str:
    """The numeric id of a Linode (Node, id string or int)."""
    value = object_id(node, "node")
    if not value.isdigit() or not value.isascii():
        raise ValidationError(f"a Linode id is a number, not {value[:40]!r}")
    return value


def _validate_root_pass(password: Any) -> str:
    if not isinstance(password, str) or not 7 <= len(password) <= 128:
        raise ValidationError("a Linode root password must be a string of 7 to 128 characters")
    return password


def _public_keys(keys: Iterable[Any]) -> list[str]:
    if isinstance(keys, (str, bytes)):
        raise ValidationError("authorized keys must be a list of public key lines, not one string")
    result = []
    for key in keys:
        if not isinstance(key, str):
            raise ValidationError(f"authorized keys must be strings, not {type(key).__name__}")
        parse_public_key(key)
        result.append(key.strip())
    return result


def _login(auth: Any, extra_keys: Iterable[Any] | None) -> tuple[list[str], str | None]:
    """(authorized keys, root password) from create/rebuild's ``auth`` and ``ex_authorized_keys``:
    an SSH key in ``auth`` goes first; every key and the password are checked."""
    keys = _public_keys(extra_keys or [])
    if isinstance(auth, NodeAuthSSHKey):
        return _public_keys([auth.pubkey]) + keys, None
    if isinstance(auth, NodeAuthPassword):
        return keys, _validate_root_pass(auth.password)
    if auth is not None:
        raise ValidationError("auth must be a NodeAuthSSHKey or a NodeAuthPassword")
    return keys, None


def _string_list(values: Any, what: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError(f"{what} must be a list of strings")
    items = list(values)
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise ValidationError(f"{what} must be a list of non-empty strings")
    return items


def _opt_flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be True or False")
    return value


def _opt_number(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{what} must be a non-negative integer")
    return value


def generate_root_password(length: int = 32) -> str:
    """A strong random root password with upper, lower, digit and symbol characters."""
    if length < 12:
        raise ValidationError("generated passwords are at least 12 characters long")
    return generate_password(length, symbols=_PASSWORD_SYMBOLS)


# -- HTTP ----------------------------------------------------------------------------------------


class LinodeResponse(JsonResponse):
    """Linode answers: ``{"errors": [{"reason": ..., "field": ...}]}`` on failure."""

    def parse_error(self) -> tuple[str, str | None]:
        body = self.json_error_body()
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list):
            parts = []
            for err in errors:
                if not isinstance(err, dict):
                    continue
                reason = err.get("reason")
                text = str(reason) if reason not in (None, "") else "(no reason given)"
                field = err.get("field")
                parts.append(f"{field}: {text}" if field not in (None, "") else text)
            if parts:
                return "; ".join(parts), None
        return self._fallback_message(), None

    def retry_after(self) -> float | None:
        """``Retry-After`` seconds, else until ``X-RateLimit-Reset`` (epoch seconds, UTC)."""
        seconds = parse_retry_after(self.header("retry-after"))
        if seconds is not None:
            return seconds
        reset = self.header("x-ratelimit-reset")
        if reset:
            try:
                return max(0.0, float(reset) - time.time())
            except ValueError:
                return None
        return None


class LinodeConnection(BearerTokenConnection):
    """``Authorization: Bearer <token>`` to api.linode.com."""

    host = "api.linode.com"
    responseCls = LinodeResponse


# -- parsing -------------------------------------------------------------------------------------


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


def _page_items(body: Any) -> list[Any]:
    page = as_dict(body, "Linode listing")
    return as_list(req(page, "data", list, "Linode listing"), "Linode listing data")


def _total_pages(body: Any, _page_size: int) -> int:
    pages = as_dict(body, "Linode listing").get("pages", 1)
    if isinstance(pages, bool) or not isinstance(pages, int):
        raise MalformedResponseError(f"Linode listing: 'pages' has type {type(pages).__name__}")
    return max(1, pages)


def _total_items(body: Any) -> int | None:
    results = as_dict(body, "Linode listing").get("results")
    return results if isinstance(results, int) and not isinstance(results, bool) else None


#: The OAuth scopes the driver's methods need: nodes are managed (read_write), images
#: read, and SSH keys and tags (``account``) managed.
NEEDED_SCOPES = ("linodes:read_write", "images:read_only", "account:read_write")
_SCOPE_LEVELS = {"read_only": 1, "read_write": 2}


def missing_scopes(header: str | None, needed: Sequence[str]) -> list[str]:
    """The ``needed`` scopes an ``X-OAuth-Scopes`` value does not grant (``*`` grants all;
    ``read_write`` includes ``read_only``). No header: nothing is known to be missing."""
    if header is None or not header.strip():
        return []
    granted: dict[str, int] = {}
    for scope in header.replace(",", " ").split():
        if scope == "*":
            return []
        area, _, level = scope.partition(":")
        granted[area] = max(granted.get(area, 0), _SCOPE_LEVELS.get(level, 0))
    missing = []
    for scope in needed:
        area, _, level = scope.partition(":")
        if granted.get(area, 0) < _SCOPE_LEVELS[level]:
            missing.append(scope)
    return missing


# -- the driver ----------------------------------------------------------------------------------


class LinodeNodeDriver(LinodeStorageMixin, NodeDriver):
    """Linode API v4: ``get_driver(Provider.LINODE)(token)``."""

    name = "Linode"
    type = "linode"
    website = "https://www.linode.com/"
    credential_names: ClassVar[tuple[str, ...]] = ("TOKEN",)
    connectionCls = LinodeConnection
    features: ClassVar[dict[str, list[str]]] = {
        "create_node": ["ssh_key", "password", "generates_password"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = LINODE_STATE_MAP
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = LINODE_NODE_ACTIONS
    #: libcloud names this API "4.0"; the paths say "v4".
    API_VERSIONS: ClassVar[tuple[str, ...]] = ("v4", "4.0")

    # -- helpers ------------------------------------------------------------------------------

    def _get(self, path: str, headers: Mapping[str, str] | None = None) -> Any:
        return self.connection.request(API + path, headers=headers).object

    def _paged(self, path: str, headers: Mapping[str, str] | None = None,
               transform: Callable[[Any], Any] | None = None) -> list[Any]:
        """Every item of a paged listing: page 1, then the remaining pages concurrently
        (each item passed through ``transform`` as its page arrives, when given)."""
        return self.connection.paginate(API + path, _page_items, _total_pages, headers=headers,
                                        total_items=_total_items,
                                        page_param="page", size_param="page_size",
                                        page_size=self.connection.page_size or PAGE_SIZE,
                                        transform=transform)

    def _unpaged(self, path: str) -> list[Any]:
        """Listings whose operation declares no paging parameters (``/regions``,
        ``/linode/types``): they still answer with the envelope; further pages, should one
        ever appear, are asked for with ``page``."""
        return self.connection.paginate(API + path, _page_items, _total_pages, size_param=None,
                                        page_size=PAGE_SIZE, total_items=_total_items)

    def _node_path(self, node: Node | str | int, suffix: str = "") -> str:
        return f"{API}/linode/instances/{_linode_id(node)}{suffix}"

    # -- parsing ------------------------------------------------------------------------------

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

    # -- credentials --------------------------------------------------------------------------

    def verify_credentials(self) -> bool:
        """GET /v4/profile (allowed for every valid token): True, InvalidCredsError for a bad
        token, or ForbiddenError naming the OAuth scopes the token lacks (read from the
        ``X-OAuth-Scopes`` answer header; see ``NEEDED_SCOPES``)."""
        response = self.connection.request(API + "/profile")
        as_dict(response.object, "Linode profile")
        missing = missing_scopes(response.header("x-oauth-scopes"), NEEDED_SCOPES)
        if missing:
            granted = (response.header("x-oauth-scopes") or "").strip() or "none"
            raise ForbiddenError(
                f"the Linode token is valid but lacks the OAuth scopes the driver needs: "
                f"{', '.join(missing)} (the token has: {granted[:200]})", 403, driver=self.name)
        return True

    # -- nodes --------------------------------------------------------------------------------

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Every Linode (page_size 500, remaining pages concurrently). With ``tag``, the API
        filters (``X-Filter: {"tags": tag}``) and the result is checked again locally."""
        headers = None
        if tag is not None:
            if not isinstance(tag, str) or not tag:
                raise ValidationError("tag must be a non-empty string")
            headers = {"X-Filter": json.dumps({"tags": tag}, separators=(",", ":"))}
        nodes: list[Node] = self._paged("/linode/instances", headers, transform=self._to_node)
        if tag is not None:
            nodes = [n for n in nodes if tag in n.tags]
        return nodes

    def get_node(self, node_id: str) -> Node:
        """One Linode by id."""
        return self._to_node(self.connection.request(self._node_path(node_id)).object)

    def create_node(self, name: str | None, size: NodeSize | str, image: NodeImage | str | None,
                    location: NodeLocation | str | None = None, auth: Any = None, *,
                    ex_authorized_keys: Sequence[str] | None = None,
                    ex_authorized_users: Sequence[str] | None = None,
                    ex_tags: Sequence[str] | None = None,
                    ex_private_ip: bool | None = None,
                    ex_booted: bool | None = None,
                    ex_backups_enabled: bool | None = None,
                    ex_stackscript_id: int | None = None,
                    ex_stackscript_data: Mapping[str, Any] | None = None,
                    ex_firewall_id: int | None = None,
                    ex_swap_size: int | None = None,
                    ex_user_data: str | bytes | None = None,
                    root_pass: str | None = None,
                    ex_userdata: str | None = None) -> Node:
        """Create a Linode (POST /v4/linode/instances) and return it (usually provisioning).

        ``auth``: ``NodeAuthSSHKey`` → ``authorized_keys``; ``NodeAuthPassword`` → ``root_pass``.
        With an image and no password a strong root password is generated and returned once
        in ``node.extra["password"]``. Every argument is checked before anything is sent.

        libcloud's keywords work too: ``root_pass`` (the root password, like
        ``auth=NodeAuthPassword(...)``) and ``ex_userdata`` (cloud-init user data already
        base64-encoded, sent as is; ``ex_user_data`` takes it unencoded). Positionally the
        order is cloudkit's ``(name, size, image, location)``, not libcloud's Linode
        ``(location, name, size, image)``.
        """
        if root_pass is not None:
            if auth is not None:
                raise ValidationError("give auth or root_pass, not both")
            auth = NodeAuthPassword(_validate_root_pass(root_pass))
        if ex_userdata is not None:
            if ex_user_data is not None:
                raise ValidationError("give ex_user_data (plain) or ex_userdata (base64), not both")
            try:
                ex_user_data = base64.b64decode(ex_userdata, validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise ValidationError("ex_userdata must be base64-encoded text (libcloud's meaning); "
                                      "pass plain text as ex_user_data") from None
        body: dict[str, Any] = {}
        if name is not None:
            body["label"] = validate_label(name)
        body["type"] = _validate_slug(object_id(size, "size"), "type", _SLUG)
        if location is None:
            raise ValidationError("Linode needs a location (region) to create a node in")
        body["region"] = _validate_slug(object_id(location, "location"), "region", _SLUG)
        keys, password = _login(auth, ex_authorized_keys)
        generated = False
        if image is not None:
            body["image"] = _validate_slug(object_id(image, "image"), "image", _IMAGE_ID)
            if password is None:
                password, generated = generate_root_password(), True
            body["root_pass"] = password
        elif password is not None or keys:
            raise ValidationError("a root password or SSH keys need an image to be deployed")
        if keys:
            body["authorized_keys"] = keys
        if ex_authorized_users is not None:
            body["authorized_users"] = _string_list(ex_authorized_users, "ex_authorized_users")
        if ex_tags is not None:
            body["tags"] = [_validate_tag(t) for t in _string_list(ex_tags, "ex_tags")]
        for key, flag in (("private_ip", ex_private_ip), ("booted", ex_booted),
                          ("backups_enabled", ex_backups_enabled)):
            if flag is not None:
                body[key] = _opt_flag(flag, f"ex_{key}")
        for key, number in (("stackscript_id", ex_stackscript_id), ("firewall_id", ex_firewall_id),
                            ("swap_size", ex_swap_size)):
            if number is not None:
                body[key] = _opt_number(number, f"ex_{key}")
        if ex_stackscript_data is not None:
            if not isinstance(ex_stackscript_data, Mapping):
                raise ValidationError("ex_stackscript_data must be a mapping of field name to value")
            body["stackscript_data"] = dict(ex_stackscript_data)
        if ex_user_data is not None:
            raw = ex_user_data.encode("utf-8") if isinstance(ex_user_data, str) else ex_user_data
            if not isinstance(raw, bytes):
                raise ValidationError("ex_user_data must be text or bytes")
            body["metadata"] = {"user_data": base64.b64encode(raw).decode("ascii")}
        hint = (f"look for a Linode labelled {name!r} before trying again" if name is not None
                else f"look for a new Linode in region {body['region']!r} before trying again")
        response = self.connection.request(f"{API}/linode/instances", data=body, method="POST",
                                           outcome_hint=hint)
        node = self._to_node(response.object)
        if generated:
            node.extra["password"] = password
        return node

    def _action(self, node: Node | str, action: str, suffix: str, ex_force: bool) -> bool:
        self._check_action(node, action, ex_force)
        self.connection.request(self._node_path(node, suffix), method="POST")
        return True

    def reboot_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../reboot."""
        return self._action(node, "reboot_node", "/reboot", ex_force)

    def start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../boot (power on with the last booted config)."""
        return self._action(node, "start_node", "/boot", ex_force)

    def stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../shutdown (Linode has no separate hard power-off)."""
        return self._action(node, "stop_node", "/shutdown", ex_force)

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """DELETE the Linode (disks, backups and IPs go with it)."""
        self._check_action(node, "destroy_node", ex_force)
        self.connection.request(self._node_path(node), method="DELETE")
        return True

    def ex_resize_node(self, node: Node | str, size: NodeSize | str, allow_auto_disk_resize: bool = True,
                       migration_type: str | None = None, ex_force: bool = False) -> bool:
        """POST .../resize to another type (``migration_type`` "cold" or "warm")."""
        self._check_action(node, "ex_resize_node", ex_force)
        body: dict[str, Any] = {
            "type": _validate_slug(object_id(size, "size"), "type", _SLUG),
            "allow_auto_disk_resize": _opt_flag(allow_auto_disk_resize, "allow_auto_disk_resize"),
        }
        if migration_type is not None:
            if migration_type not in ("cold", "warm"):
                raise ValidationError("migration_type must be 'cold' or 'warm'")
            body["migration_type"] = migration_type
        self.connection.request(self._node_path(node, "/resize"), data=body, method="POST")
        return True

    def ex_rebuild_node(self, node: Node | str, image: NodeImage | str, auth: Any = None, *,
                        ex_authorized_keys: Sequence[str] | None = None,
                        ex_authorized_users: Sequence[str] | None = None,
                        ex_booted: bool | None = None, ex_force: bool = False) -> Node:
        """POST .../rebuild: wipe the disks and deploy ``image``. Like create_node, a root
        password is generated when none is given (returned once in ``extra["password"]``)."""
        self._check_action(node, "ex_rebuild_node", ex_force)
        body: dict[str, Any] = {"image": _validate_slug(object_id(image, "image"), "image", _IMAGE_ID)}
        keys, password = _login(auth, ex_authorized_keys)
        generated = password is None
        body["root_pass"] = password = password or generate_root_password()
        if keys:
            body["authorized_keys"] = keys
        if ex_authorized_users is not None:
            body["authorized_users"] = _string_list(ex_authorized_users, "ex_authorized_users")
        if ex_booted is not None:
            body["booted"] = _opt_flag(ex_booted, "ex_booted")
        path = self._node_path(node, "/rebuild")
        result = self._to_node(self.connection.request(path, data=body, method="POST").object)
        if generated:
            result.extra["password"] = password
        return result

    def ex_rename_node(self, node: Node | str, name: str, ex_force: bool = False) -> Node:
        """PUT the Linode's label; returns the updated node."""
        self._check_action(node, "ex_rename_node", ex_force)
        body = {"label": validate_label(name)}
        return self._to_node(self.connection.request(self._node_path(node), data=body, method="PUT").object)

    # -- tags ---------------------------------------------------------------------------------

    def ex_list_tags(self) -> list[str]:
        """Every tag label on the account (GET /v4/tags)."""
        labels = []
        for item in self._paged("/tags"):
            labels.append(req(as_dict(item, "Linode tag"), "label", str, "Linode tag"))
        return labels

    def ex_create_tag(self, name: str) -> str:
        """Create a tag (POST /v4/tags); returns its label."""
        body = as_dict(self.connection.request(f"{API}/tags", data={"label": _validate_tag(name)},
                                               method="POST").object, "Linode tag")
        label: str = req(body, "label", str, "Linode tag")
        return label

    def ex_delete_tag(self, name: str) -> bool:
        """Delete a tag from the account (it is removed from every object)."""
        self.connection.request(f"{API}/tags/{quote(_validate_tag(name), safe='')}", method="DELETE")
        return True

    def _retag(self, node: Node | str, change: Callable[[list[str]], list[str]]) -> bool:
        current = self.get_node(_linode_id(node))
        tags = change(list(current.tags))
        if tags != current.tags:
            updated = self._to_node(self.connection.request(
                self._node_path(current.id), data={"tags": tags}, method="PUT").object)
            tags = updated.tags
        if isinstance(node, Node):
            node.tags = list(tags)
        return True

    def ex_tag_node(self, node: Node | str, tag: str) -> bool:
        """Add ``tag`` to a Linode (PUT of its tags list; the tag is created if new)."""
        _validate_tag(tag)
        return self._retag(node, lambda tags: tags if tag in tags else [*tags, tag])

    def ex_untag_node(self, node: Node | str, tag: str) -> bool:
        """Remove ``tag`` from a Linode (PUT of its tags list)."""
        _validate_tag(tag)
        return self._retag(node, lambda tags: [t for t in tags if t != tag])

    # -- catalogue ----------------------------------------------------------------------------

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Linode types. With ``location``, prices are that region's (``region_prices``)."""
        region = None
        if location is not None:
            region = _validate_slug(object_id(location, "location"), "region", _SLUG)
        return [self._to_size(item, region) for item in self._unpaged("/linode/types")]

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        """Public and private images. With ``location``, images listed in other regions only
        are left out (public images carry no region list and are kept)."""
        images = [self._to_image(item) for item in self._paged("/images")]
        if location is None:
            return images
        region = object_id(location, "location")
        return [i for i in images if not i.extra["regions"] or region in i.extra["regions"]]

    def ex_get_image(self, image_id: str) -> NodeImage:
        """One image by id (``linode/debian12`` or ``private/123``; the slash is sent as is)."""
        image = _validate_slug(object_id(image_id, "image"), "image", _IMAGE_ID)
        return self._to_image(self._get(f"/images/{image}"))

    def list_locations(self) -> list[NodeLocation]:
        """Regions, with country code and capabilities."""
        return [self._to_location(item) for item in self._unpaged("/regions")]

    # -- key pairs ----------------------------------------------------------------------------

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored on the profile (GET /v4/profile/sshkeys)."""
        return [self._to_key_pair(item) for item in self._paged("/profile/sshkeys")]

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store a public key on the profile under ``name`` (label, up to 64 characters)."""
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ValidationError("an SSH key label must be a non-empty string of at most 64 characters")
        parse_public_key(key_material)
        body = {"label": name, "ssh_key": key_material.strip()}
        response = self.connection.request(f"{API}/profile/sshkeys", data=body, method="POST",
                                           outcome_hint=f"look for an SSH key labelled {name!r}")
        return self._to_key_pair(response.object)

    def delete_key_pair(self, key_pair: KeyPair | str) -> bool:
        """Remove a stored key (a KeyPair, its id, or its label)."""
        key_id = key_pair.id if isinstance(key_pair, KeyPair) else object_id(key_pair, "key pair")
        if key_id is None or not key_id.isdigit():
            name = key_pair.name if isinstance(key_pair, KeyPair) else key_id
            if not name:
                raise ValidationError("key pair has neither an id nor a name")
            key_id = self.get_key_pair(name).id
            if key_id is None:  # pragma: no cover - listing always gives ids
                raise NotFoundError(f"key pair {name!r} has no id", 404, driver=self.name)
        self.connection.request(f"{API}/profile/sshkeys/{key_id}", method="DELETE")
        return True

    # -- libcloud's names for the same things ---------------------------------------------------

    def ex_get_node(self, node_id: Node | str) -> Node:
        """libcloud's name for ``get_node``."""
        return self.get_node(object_id(node_id, "node"))

    def ex_start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for ``start_node``."""
        return self.start_node(node, ex_force)

    def ex_stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for ``stop_node``."""
        return self.stop_node(node, ex_force)

    def get_image(self, image_id: NodeImage | str | None = None, image: NodeImage | str | None = None) -> NodeImage:
        """One image by id (``linode/debian12``); ``image=`` is libcloud's Linode name."""
        return self.ex_get_image(alias(image_id, image, "image_id", "image"))

    # -- disks ----------------------------------------------------------------------------------

    @parser("Linode disk")
    def _to_disk(self, data: Any) -> LinodeDisk:
        obj = as_dict(data, "Linode disk")
        what = "Linode disk"
        return LinodeDisk(req_id(obj, "id", what), _opt_str(obj, "status", what) or "unknown",
                          _opt_str(obj, "label", what) or "", _opt_str(obj, "filesystem", what) or "",
                          self, _opt_int(obj, "size", what) or 0,
                          {"created": parse_datetime(obj.get("created")),
                           "updated": parse_datetime(obj.get("updated"))})

    @staticmethod
    def _disk_id(disk: LinodeDisk | str | int) -> str:
        value = disk.id if isinstance(disk, LinodeDisk) else object_id(disk, "disk")
        if not value.isdigit() or not value.isascii():
            raise ValidationError(f"a disk id is a number, not {value[:40]!r}")
        return value

    def ex_list_disks(self, node: Node | str) -> list[LinodeDisk]:
        """A Linode's disks (GET .../disks)."""
        return [self._to_disk(item) for item in self._paged(f"/linode/instances/{_linode_id(node)}/disks")]

    def ex_create_disk(self, size: int, name: str, node: Node | str, fs_type: str,
                       image: NodeImage | str | None = None, ex_root_pass: str | None = None,
                       ex_authorized_keys: Sequence[str] | None = None,
                       ex_authorized_users: Sequence[str] | None = None,
                       ex_read_only: bool = False) -> LinodeDisk:
        """Add a disk of ``size`` MB to a Linode (POST .../disks), empty or from ``image``
        (which needs ``ex_root_pass``). Linode disks have no read-only flag (a configuration
        profile makes a device read-only): ``ex_read_only=True`` is refused."""
        if ex_read_only:
            raise ValidationError("Linode disks have no read-only flag; set it on the configuration profile")
        if not isinstance(name, str) or not name.strip() or len(name) > 48:
            raise ValidationError("a disk label must be a non-empty string of at most 48 characters")
        body: dict[str, Any] = {"label": name,
                                "size": _opt_number(size, "size (MB)")}
        if fs_type not in LINODE_DISK_FILESYSTEMS:
            raise ValidationError(f"fs_type must be one of {', '.join(LINODE_DISK_FILESYSTEMS)}")
        body["filesystem"] = fs_type
        if image is not None:
            if ex_root_pass is None:
                raise ValidationError("a disk made from an image needs ex_root_pass")
            body["image"] = _validate_slug(object_id(image, "image"), "image", _IMAGE_ID)
            body["root_pass"] = _validate_root_pass(ex_root_pass)
        elif ex_root_pass is not None:
            raise ValidationError("ex_root_pass needs an image")
        if ex_authorized_keys is not None:
            body["authorized_keys"] = _public_keys(ex_authorized_keys)
        if ex_authorized_users is not None:
            body["authorized_users"] = _string_list(ex_authorized_users, "ex_authorized_users")
        path = self._node_path(node, "/disks")
        response = self.connection.request(path, data=body, method="POST",
                                           outcome_hint=f"look for a disk labelled {name!r} (ex_list_disks)")
        return self._to_disk(response.object)

    def ex_destroy_disk(self, node: Node | str, disk: LinodeDisk | str | int) -> bool:
        """Delete a disk (DELETE .../disks/{id}); the API refuses it while the Linode runs."""
        self.connection.request(self._node_path(node, f"/disks/{self._disk_id(disk)}"), method="DELETE")
        return True
