"""Linode bodies turned into models: instances, types, images, regions, SSH keys."""

from __future__ import annotations

from typing import Any

from cloudkit.drivers.linode.base import LinodeDriverBase
from cloudkit.errors import ValidationError
from cloudkit.field_maps import (
    ADDRESSES,
    INT,
    OBJECT,
    REQ_ID,
    REQ_TEXT,
    SHARED_INT,
    SHARED_NUM,
    SLUG,
    TEXTS,
    TOKEN,
    X_ANY,
    X_SHARED,
    X_TEXT,
    X_TOKEN,
    FieldMap,
    x_shared_ints,
)
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from cloudkit.parsing import (
    as_dict,
    as_list,
    int_field,
    num_field,
    obj_field,
    parse_datetime,
    parser,
    req,
    req_id,
    str_field,
    strs_field,
)
from cloudkit.sshkeys import fingerprint_md5

_INSTANCE = "Linode instance"
#: An instance's fields (see cloudkit.field_maps for what each kind accepts).
_NODE = FieldMap(_INSTANCE, {
    "id": REQ_ID, "label": REQ_TEXT, "status": TOKEN, "ipv4": ADDRESSES, "ipv6": X_TEXT, "specs": OBJECT,
    "type": SLUG, "image": SLUG, "region": X_TOKEN, "created": X_ANY, "updated": X_ANY, "tags": TEXTS,
    # A type's figures, as ``specs`` repeats them (shared: one object per figure).
    "memory": (("specs", "memory"), SHARED_INT), "disk": (("specs", "disk"), SHARED_INT),
    "transfer": (("specs", "transfer"), SHARED_NUM), "vcpus": (("specs", "vcpus"), INT),
    "gpus": (("specs", "gpus"), X_ANY),
    # Default alert thresholds (io 10000, cpu 90 per vCPU): most Linodes share them.
    "alerts": x_shared_ints("cpu", "io")},
    # ``Node.extra``: these first (None: set by ``_to_node``), then the fields below, kept as they
    # are when present; the strings most Linodes share (hypervisor, group, ...) interned.
    extra_first={"status": "status", "location": "region", "size": "type", "image": "image", "ipv6": None,
                 "ipv6_prefix_length": None, "updated": None, "specs": "specs"},
    extra={
        "hypervisor": X_SHARED, "group": X_SHARED, "host_uuid": X_ANY, "watchdog_enabled": X_ANY,
        "has_user_data": X_ANY, "lke_cluster_id": X_ANY, "alerts": X_ANY, "backups": X_ANY,
        "placement_group": X_ANY, "capabilities": X_ANY, "disk_encryption": X_SHARED,
        "maintenance_policy": X_ANY, "interface_generation": X_SHARED}, extra_present_only=True)


def _mb_to_gb(mb: int | None) -> int:
    return 0 if mb is None else round(mb / 1024)


def _prefix_length(address: str | None) -> int | None:
    if not address or "/" not in address:
        return None
    suffix = address.rsplit("/", 1)[1]
    return int(suffix) if suffix.isdigit() and len(suffix) <= 3 else None


class LinodeParsing(LinodeDriverBase):
    """The ``_to_*`` functions: plain dicts from the API to cloudkit models."""

    @parser(_INSTANCE)
    def _to_node(self, data: Any) -> Node:
        (node_id, label, status, (public_ips, private_ips), ipv6, _specs, type_id, image_id, _region, created_text,
         updated_text, tags, memory, disk, transfer, vcpus, gpus, _alerts, extra) = _NODE.values(data)
        created = parse_datetime(created_text)
        extra["ipv6"] = ipv6.split("/", 1)[0] if ipv6 else None
        extra["ipv6_prefix_length"] = _prefix_length(ipv6)
        # A Linode never changed since it was made has the same text in both: one object.
        extra["updated"] = created if updated_text == created_text else parse_datetime(updated_text)
        return Node(node_id, label, self._state(status), public_ips, private_ips, self,
                    NodeSize(type_id, type_id, memory or 0, _mb_to_gb(disk), transfer, None, self, {"gpus": gpus},
                             vcpus) if type_id is not None else None,
                    NodeImage(image_id, image_id, self) if image_id is not None else None,
                    extra, created, tags)

    @parser("Linode type")
    def _to_size(self, data: Any, region: str | None = None) -> NodeSize:
        what = "Linode type"
        obj = as_dict(data, what)
        type_id = req_id(obj, "id", what)
        price = obj_field(obj, "price", what)
        hourly = num_field(price, "hourly", what)
        monthly = num_field(price, "monthly", what)
        region_prices = as_list(obj.get("region_prices") or [], f"{what}.region_prices")
        for entry in region_prices:
            entry = as_dict(entry, f"{what}.region_prices[]")
            if region is not None and entry.get("id") == region:
                hourly = num_field(entry, "hourly", what)
                monthly = num_field(entry, "monthly", what)
        extra: dict[str, Any] = {
            "class": str_field(obj, "class", what),
            "monthly_price": monthly,
            "price": price,
            "region_prices": region_prices,
            "transfer": int_field(obj, "transfer", what),
            "network_out": int_field(obj, "network_out", what),
            "disk_mb": int_field(obj, "disk", what),
            "gpus": int_field(obj, "gpus", what),
            "successor": str_field(obj, "successor", what),
            "addons": obj_field(obj, "addons", what),
        }
        if region is not None:
            extra["region"] = region
        return NodeSize(type_id, str_field(obj, "label", what) or type_id, int_field(obj, "memory", what) or 0,
                        _mb_to_gb(int_field(obj, "disk", what)), num_field(obj, "transfer", what), hourly,
                        self, extra, int_field(obj, "vcpus", what))

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
            "vendor": str_field(obj, "vendor", what),
            "description": str_field(obj, "description", what),
            "is_public": obj.get("is_public") is True,
            "deprecated": obj.get("deprecated") is True,
            "size": int_field(obj, "size", what),
            "total_size": int_field(obj, "total_size", what),
            "type": str_field(obj, "type", what),
            "status": str_field(obj, "status", what),
            "created": parse_datetime(obj.get("created")),
            "created_by": str_field(obj, "created_by", what),
            "eol": parse_datetime(obj.get("eol")),
            "expiry": parse_datetime(obj.get("expiry")),
            "capabilities": strs_field(obj, "capabilities", what),
            "tags": strs_field(obj, "tags", what),
            "regions": regions,
        }
        return NodeImage(image_id, str_field(obj, "label", what) or image_id, self, extra)

    @parser("Linode region")
    def _to_location(self, data: Any) -> NodeLocation:
        what = "Linode region"
        obj = as_dict(data, what)
        region_id = req_id(obj, "id", what)
        country = str_field(obj, "country", what)
        extra: dict[str, Any] = {
            "label": str_field(obj, "label", what),
            "status": str_field(obj, "status", what),
            "capabilities": strs_field(obj, "capabilities", what),
            "resolvers": obj_field(obj, "resolvers", what),
            "site_type": str_field(obj, "site_type", what),
        }
        return NodeLocation(region_id, str_field(obj, "label", what) or region_id,
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
        return KeyPair(str_field(obj, "label", what) or "", public_key, fingerprint, self, id=str(key_id),
                       extra={"created": parse_datetime(obj.get("created"))})
