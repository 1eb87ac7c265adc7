"""NephoScale bodies turned into models: servers, sizes, images, zones, keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cloudkit.driver import NodeDriver
from cloudkit.drivers.nephoscale.base import NephoscaleDriverBase
from cloudkit.errors import ConfigurationError, MalformedResponseError, ValidationError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from cloudkit.parsing import as_dict, obj_field, opt_int, opt_obj, opt_text, parse_datetime, parser, req_id, split_ips
from cloudkit.pricing import get_size_price
from cloudkit.sshkeys import fingerprint_md5

log = logging.getLogger("cloudkit.drivers.nephoscale")


@dataclass(eq=False, repr=False)
class NephoscalePasswordKey:
    """A NephoScale password key (a root or console password). ``password`` is the secret
    itself: never shown in repr or str."""

    id: str
    name: str
    key_group: int | None
    password: str | None = None
    driver: NodeDriver | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NephoscalePasswordKey) and self.id == other.id

    def __hash__(self) -> int:
        return hash(("nephoscale-password-key", self.id))

    def __repr__(self) -> str:
        secret = " password=<hidden>" if self.password else ""
        return f"<NephoscalePasswordKey id={self.id!r} name={self.name!r} key_group={self.key_group}{secret}>"

    __str__ = __repr__


class NephoscaleParsing(NephoscaleDriverBase):
    """The ``_to_*`` functions: plain dicts from the API to cloudkit models."""

    def _price(self, size_id: str) -> float | None:
        try:
            return get_size_price(self.type, size_id)
        except ConfigurationError as exc:
            if not getattr(self, "_pricing_warned", False):
                self._pricing_warned = True
                log.warning("no NephoScale prices: %s", exc)
            return None

    @parser("nephoscale zone")
    def _to_location(self, data: Any) -> NodeLocation:
        obj = as_dict(data, "nephoscale zone")
        ident = req_id(obj, "id", "nephoscale zone")
        center = (opt_obj(obj.get("datacenter")) or {})
        extra = {
            "activated": obj.get("activated"),
            "datacenter_id": center.get("id"),
            "datacenter": opt_text(center.get("name")),
            "airport_code": opt_text(center.get("airport_code")),
            "uri": opt_text(obj.get("uri")),
        }
        return NodeLocation(ident, opt_text(obj.get("name")) or ident, "US", self, extra)

    @parser("nephoscale image")
    def _to_image(self, data: Any) -> NodeImage:
        obj = as_dict(data, "nephoscale image")
        ident = req_id(obj, "id", "nephoscale image")
        extra: dict[str, Any] = {key: obj.get(key) for key in (
            "architecture", "base_type", "deployable_type", "is_active", "is_default", "max_cpu",
            "max_memory", "create_time", "has_agent", "uri") if key in obj}
        return NodeImage(ident, opt_text(obj.get("friendly_name")) or ident, self, extra)

    @parser("nephoscale service type")
    def _to_size(self, data: Any) -> NodeSize:
        obj = as_dict(data, "nephoscale service type")
        ident = req_id(obj, "id", "nephoscale service type")
        sku = (opt_obj(obj.get("sku")) or {})
        name = opt_text(obj.get("friendly_name")) or opt_text(sku.get("name")) or ident
        extra = {
            "sku": opt_text(sku.get("name")),
            "sku_description": opt_text(sku.get("description")),
            "billable_type": obj.get("billable_type"),
            "uri": opt_text(obj.get("uri")),
        }
        return NodeSize(ident, name, opt_int(obj.get("ram")) or 0, opt_int(obj.get("storage")) or 0,
                        None, self._price(ident), self, extra, opt_int(obj.get("vcpus")))

    @parser("nephoscale server")
    def _to_node(self, data: Any) -> Node:
        what = "nephoscale server"
        obj = as_dict(data, what)
        ident = req_id(obj, "id", what)
        name = obj.get("name")
        if not isinstance(name, str):
            raise MalformedResponseError(f"{what} {ident}: field 'name' is missing or not text")
        raw_ips = obj.get("ipaddresses")
        if raw_ips is None:
            addresses: list[str] = []
        elif isinstance(raw_ips, str):
            addresses = [part.strip() for part in raw_ips.split(",") if part.strip()]
        elif isinstance(raw_ips, list) and all(isinstance(ip, str) for ip in raw_ips):
            addresses = [ip.strip() for ip in raw_ips if ip.strip()]
        else:
            raise MalformedResponseError(f"{what} {ident}: field 'ipaddresses' is not text")
        public, private = split_ips(addresses)
        zone = (opt_obj(obj.get("zone")) or {})
        image_obj = obj_field(obj, "image", what)
        service = obj_field(obj, "service_type", what)
        image = None
        if image_obj.get("id") is not None:
            image = self._to_image(image_obj)
        size = None
        if service.get("id") is not None:
            sku = (opt_obj(service.get("sku")) or {})
            size_id = req_id(service, "id", f"{what} {ident} service_type")
            # Only what the server tells: ram from its memory; disk is not given (0).
            size = NodeSize(size_id, opt_text(service.get("friendly_name")) or opt_text(sku.get("name")) or size_id,
                            opt_int(obj.get("memory")) or 0, 0, None, self._price(size_id), self,
                            {"sku": opt_text(sku.get("name")), "billable_type": service.get("billable_type"),
                             "partial": True})
        keys = {group: [k.get("id") for k in obj.get(group) or [] if isinstance(k, dict)]
                for group in ("server_keys", "console_keys") if isinstance(obj.get(group), list)}
        extra: dict[str, Any] = {
            "hostname": opt_text(obj.get("hostname")),
            "power_status": obj.get("power_status"),
            "zone": opt_text(zone.get("name")),
            "zone_id": str(zone["id"]) if isinstance(zone.get("id"), (int, str)) else None,
            "image": opt_text(image_obj.get("friendly_name")),
            "service_type": opt_text(service.get("friendly_name")),
            "memory": opt_int(obj.get("memory")),
            "create_time": opt_text(obj.get("create_time")),
            "postinit_state": obj.get("postinit_state"),
            "is_console_enabled": obj.get("is_console_enabled"),
            "podzone": opt_text(obj.get("podzone")),
            "uri": opt_text(obj.get("uri")),
            "network_ports": obj.get("network_ports") if isinstance(obj.get("network_ports"), list) else [],
            "server_key_ids": keys.get("server_keys", []),
            "console_key_ids": keys.get("console_keys", []),
        }
        return Node(ident, name, self._state(obj.get("power_status")), public, private, self, size, image,
                    extra, parse_datetime(obj.get("create_time")), [])

    @parser("nephoscale ssh key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        obj = as_dict(data, "nephoscale ssh key")
        ident = req_id(obj, "id", "nephoscale ssh key")
        public_key = opt_text(obj.get("public_key")) or ""
        try:
            fingerprint: str | None = fingerprint_md5(public_key)
        except ValidationError:
            fingerprint = None
        extra: dict[str, Any] = {
            key: obj.get(key) for key in ("key_group", "key_type", "create_time", "uri") if key in obj}
        return KeyPair(opt_text(obj.get("name")) or ident, public_key.strip(), fingerprint, self, id=ident,
                       extra=extra)

    @parser("nephoscale password key")
    def _to_password_key(self, data: Any) -> NephoscalePasswordKey:
        obj = as_dict(data, "nephoscale password key")
        ident = req_id(obj, "id", "nephoscale password key")
        extra: dict[str, Any] = {
            key: obj.get(key) for key in ("key_type", "create_time", "uri") if key in obj}
        return NephoscalePasswordKey(ident, opt_text(obj.get("name")) or ident, opt_int(obj.get("key_group")),
                                     opt_text(obj.get("password")), self, extra)
