"""HostVirtual bodies turned into models: servers, plans, images, locations, keys, jobs."""

from __future__ import annotations

import math
from typing import Any

from cloudkit.drivers.hostvirtual.base import HostVirtualDriverBase
from cloudkit.drivers.hostvirtual.rules import _amount, _country, _flag
from cloudkit.errors import MalformedResponseError, ValidationError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from cloudkit.parsing import as_dict, opt_float, opt_id, opt_int, opt_text, parser, req, req_id, split_ips
from cloudkit.sshkeys import fingerprint_md5


class HostVirtualParsing(HostVirtualDriverBase):
    """The ``_to_*`` functions: plain dicts from the API to cloudkit models."""

    @parser("server")
    def _to_node(self, data: Any) -> Node:
        obj = as_dict(data, "server")
        node_id = req_id(obj, "mbpkgid", "server")
        fqdn = opt_text(obj.get("fqdn")) or ""
        addresses = [value.strip() for value in (obj.get("ip"), obj.get("ipv6"))
                     if isinstance(value, str) and value.strip()]
        public, private = split_ips(addresses)
        extra: dict[str, Any] = {}
        for field, key in (("plan_id", "size"), ("os_id", "image"), ("location_id", "location")):
            value = opt_id(obj.get(field))
            if value is not None:
                extra[key] = value
        for key in ("fqdn", "status", "state", "os", "package", "city", "host", "ipv6", "pkg_id"):
            raw = obj.get(key)
            if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
                extra[key] = raw
        for key in ("installed", "rescue", "locked"):
            flag = _flag(obj.get(key))
            if flag is not None:
                extra[key] = flag
        status = obj.get("status")
        state = self._state(status.strip().upper() if isinstance(status, str) else status)
        return Node(node_id, fqdn, state, public, private, self, extra=extra)

    @parser("plan")
    def _to_size(self, data: Any) -> NodeSize:
        obj = as_dict(data, "plan")
        size_id = req_id(obj, "plan_id", "plan")
        name = req(obj, "plan", str, "plan")
        ram = _amount(obj.get("ram"), "MB")
        disk = _amount(obj.get("disk"), "GB")
        if ram is None or disk is None:
            raise MalformedResponseError(
                f"plan {size_id}: ram {obj.get('ram')!r} / disk {obj.get('disk')!r} are not sizes",
                driver=self.name)
        monthly = opt_float(obj.get("price"))
        if monthly is not None and (not math.isfinite(monthly) or monthly < 0):
            monthly = None
        hourly = monthly / self.HOURS_PER_MONTH if monthly is not None else None
        extra: dict[str, Any] = {"price_monthly": monthly, "available": opt_int(obj.get("available")),
                                 "ram": obj.get("ram"), "disk": obj.get("disk"),
                                 "transfer": obj.get("transfer")}
        return NodeSize(size_id, name, round(ram), round(disk), _amount(obj.get("transfer"), "GB"), hourly,
                        self, {k: v for k, v in extra.items() if v is not None})

    @parser("image")
    def _to_image(self, data: Any) -> NodeImage:
        obj = as_dict(data, "image")
        image_id = req_id(obj, "id", "image")
        name = req(obj, "os", str, "image")
        extra = {key: value for key, value in obj.items() if key not in ("id", "os")
                 and (value is None or isinstance(value, (str, int, float, bool)))}
        return NodeImage(image_id, name, self, extra)

    @parser("location")
    def _to_location(self, data: Any, key: Any = None) -> NodeLocation:
        obj = as_dict(data, "location")
        location_id = req_id(obj, "id", "location")
        name = obj.get("name")
        if not isinstance(name, str) or not name.strip():
            name = key if isinstance(key, str) and key.strip() else None
        if name is None:
            raise MalformedResponseError(f"location {location_id}: no name", driver=self.name)
        code, sep, place = name.partition(" - ")
        extra: dict[str, Any] = {}
        if sep:
            extra["code"] = code.strip()
            extra["city"] = place.split(",", 1)[0].strip()
        country = _country(name)
        if country is not None:
            extra["region"] = country
        return NodeLocation(location_id, name, country, self, extra)

    @parser("SSH key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        obj = as_dict(data, "SSH key")
        key_id = req_id(obj, "id", "SSH key")
        name = req(obj, "name", str, "SSH key")
        public = req(obj, "ssh_key", str, "SSH key").strip()
        fingerprint = opt_text(obj.get("fingerprint"))
        if not fingerprint:
            try:
                fingerprint = fingerprint_md5(public)
            except ValidationError:
                fingerprint = None
        return KeyPair(name, public, fingerprint, self, id=key_id)

    @parser("package")
    def _to_package(self, data: Any) -> dict[str, Any]:
        obj = dict(as_dict(data, "package"))
        obj["mbpkgid"] = req_id(obj, "mbpkgid", "package")
        return obj

    @parser("job")
    def _to_job(self, data: Any) -> dict[str, Any]:
        obj = dict(as_dict(data, "job"))
        obj["id"] = req_id(obj, "id", "job")
        status = opt_int(obj.get("status"))
        obj["status"] = status
        obj["done"] = status is not None and status >= 5
        obj["succeeded"] = status == 5
        return obj
