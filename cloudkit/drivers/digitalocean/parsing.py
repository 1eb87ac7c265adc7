"""DigitalOcean bodies turned into models: droplets, sizes, images, regions, keys, actions."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from cloudkit.drivers.digitalocean.base import DigitalOceanAction, DigitalOceanDriverBase
from cloudkit.errors import CloudkitError, MalformedResponseError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.parsing import as_dict, is_private_ip, opt_float, opt_int, parse_datetime, parser, req, req_id

_NO_GATEWAY = frozenset({"", "<nil>", "nil", "null", "none"})
_DIGITS = frozenset("0123456789")

#: City prefix of a region slug → ISO 3166 country code.
_COUNTRIES = {
    "nyc": "US", "sfo": "US", "atl": "US", "ric": "US", "ams": "NL", "sgp": "SG", "lon": "GB",
    "fra": "DE", "tor": "CA", "blr": "IN", "syd": "AU",
}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _bool_or_none(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _strings(value: Any) -> list[str]:
    if not value or not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def _ints(value: Any) -> list[int]:
    if not value or not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, int)]


def _types(value: dict[str, Any]) -> tuple[type, ...]:
    """The JSON types of an object's values, in order (``==`` alone takes True for 1 and 1.0)."""
    return tuple(map(type, value.values()))


def _copier(model: NodeSize | NodeImage) -> Callable[[], NodeSize | NodeImage]:
    """A function returning a fresh copy of ``model`` each call: its own ``extra`` and its own
    copy of every list or dict in it (nodes never share what a caller might change)."""
    fields = model.extra
    mutable = tuple(k for k, v in fields.items() if isinstance(v, (list, dict)))
    if isinstance(model, NodeSize):
        size_id, name, ram, disk, bandwidth = model.id, model.name, model.ram, model.disk, model.bandwidth
        price, driver, vcpus = model.price, model.driver, model.vcpus
        extra = fields.copy()
        for key in mutable:
            extra[key] = extra[key].copy()

        def new_size() -> NodeSize:
            fresh = extra.copy()
            for key in mutable:
                fresh[key] = fresh[key].copy()
            return NodeSize(size_id, name, ram, disk, bandwidth, price, driver, fresh, vcpus)

        return new_size
    image_id, image_name, image_driver = model.id, model.name, model.driver
    image_extra = fields.copy()
    for key in mutable:
        image_extra[key] = image_extra[key].copy()

    def new_image() -> NodeImage:
        fresh = image_extra.copy()
        for key in mutable:
            fresh[key] = fresh[key].copy()
        return NodeImage(image_id, image_name, image_driver, fresh)

    return new_image


class DigitalOceanParsing(DigitalOceanDriverBase):
    """The ``_to_*`` functions: plain dicts from the API to cloudkit models."""

    @parser("droplet")
    def _to_node(self, data: Any) -> Node:
        # Every droplet of every listing comes through here: the usual value of each field (its
        # exact JSON type) is accepted inline, and only an unusual one goes through the helper
        # that decides what it means. The result is the same either way; only the cost differs.
        droplet = data if type(data) is dict else as_dict(data, "droplet")
        get = droplet.get
        raw_id = get("id")
        node_id = str(raw_id) if type(raw_id) is int else req_id(droplet, "id", "droplet")
        name = get("name")
        if type(name) is not str:
            name = req(droplet, "name", str, "droplet")
        networks = get("networks")
        if not isinstance(networks, dict):
            networks = None
        public_ips, private_ips, addresses = self._addresses(networks)
        region = get("region")
        if isinstance(region, dict):
            region_slug, region_name = region.get("slug"), region.get("name")
        else:
            region_slug = region_name = None
        memo = self._embedded_memo
        image = get("image")
        if isinstance(image, dict) and image:
            # _embedded_model's memo check inline (every droplet embeds an image and a size)
            slug = image.get("slug")
            hit = memo.get(("image", slug if isinstance(slug, str) else None))
            if hit is not None and hit[0] == image and hit[1] == _types(image):
                image = hit[2]()
            else:
                image = self._embedded_model("image", image, self._to_image)
        else:
            image = None
        status = get("status")
        created_at = get("created_at")
        kernel = get("kernel")
        memory, vcpus, disk = get("memory"), get("vcpus"), get("disk")
        locked, size_slug, vpc_uuid = get("locked"), get("size_slug"), get("vpc_uuid")
        features, backup_ids, snapshot_ids = get("features"), get("backup_ids"), get("snapshot_ids")
        volume_ids, tags = get("volume_ids"), get("tags")
        extra: dict[str, Any] = {
            "status": status if isinstance(status, str) and status else None,
            "memory": memory if type(memory) is int else opt_int(memory),
            "vcpus": vcpus if type(vcpus) is int else opt_int(vcpus),
            "disk": disk if type(disk) is int else opt_int(disk),
            "locked": locked if type(locked) is bool else None,
            "created_at": created_at if isinstance(created_at, str) and created_at else None,
            "size_slug": size_slug if type(size_slug) is str and size_slug else _str_or_none(size_slug),
            "region": region_slug if type(region_slug) is str and region_slug else _str_or_none(region_slug),
            "region_name": (region_name if type(region_name) is str and region_name
                            else _str_or_none(region_name)),
            "image_id": image.id if image else None,
            "image_slug": image.extra.get("slug") if image else None,
            "features": _strings(features) if features else [],
            "backup_ids": _ints(backup_ids) if backup_ids else [],
            "snapshot_ids": _ints(snapshot_ids) if snapshot_ids else [],
            "volume_ids": _strings(volume_ids) if volume_ids else [],
            "vpc_uuid": vpc_uuid if type(vpc_uuid) is str and vpc_uuid else _str_or_none(vpc_uuid),
            "kernel": kernel if isinstance(kernel, dict) else None,
            "networks": networks if networks is not None else {},
            "addresses": addresses,
        }
        size = get("size")
        if isinstance(size, dict) and size:
            slug = size.get("slug")
            hit = memo.get(("size", slug if isinstance(slug, str) else None))
            if hit is not None and hit[0] == size and hit[1] == _types(size):
                size = hit[2]()
            else:
                size = self._embedded_model("size", size, self._to_size)
        else:
            size = None
        if size is None:
            size = self._node_size(droplet)
        return Node(node_id, name, self._state(status), public_ips, private_ips, self, size, image,
                    extra, parse_datetime(created_at), _strings(tags) if tags else [])

    @staticmethod
    def _addresses(networks: Any) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """(public IPs, private IPs, normalised entries) from a droplet's ``networks``."""
        public: list[str] = []
        private: list[str] = []
        entries: list[dict[str, Any]] = []
        if not isinstance(networks, dict):
            return public, private, entries
        for family in ("v4", "v6"):
            listed = networks.get(family)
            if not listed or not isinstance(listed, list):
                continue
            for net in listed:
                if not isinstance(net, dict):
                    continue
                address = net.get("ip_address")
                if not isinstance(address, str):
                    continue
                address = address.strip()
                if not address:
                    continue
                kind = net.get("type")
                if kind == "public":
                    target = public
                elif kind == "private":
                    target = private
                else:
                    kind = "private" if is_private_ip(address) else "public"
                    target = private if kind == "private" else public
                if address not in target:
                    target.append(address)
                gateway = net.get("gateway")
                if type(gateway) is str and gateway[:1] in _DIGITS:
                    pass  # an address: no placeholder starts with a digit
                elif not isinstance(gateway, str) or gateway.strip().lower() in _NO_GATEWAY:
                    gateway = None
                netmask = net.get("netmask")
                if type(netmask) is not str and (not isinstance(netmask, (str, int)) or isinstance(netmask, bool)):
                    netmask = None
                entries.append({
                    "family": family, "type": kind, "ip_address": address, "gateway": gateway,
                    "netmask": netmask,
                })
        return public, private, entries

    @staticmethod
    def _embedded(value: Any, parse: Callable[[Any], Any]) -> Any:
        """Parse an embedded object (a droplet's image or size); None when absent or unusable,
        so one odd sub-object does not hide the droplet itself."""
        if not isinstance(value, dict) or not value:
            return None
        try:
            return parse(value)
        except MalformedResponseError:
            return None

    def _embedded_model(self, kind: str, value: Any, parse: Callable[[Any], Any]) -> Any:
        """``_embedded(value, parse)`` for the size and image every droplet embeds, remembering
        the last parse per slug: a listing's droplets share a few sizes and images, and
        checking that an object equals the one parsed before (same values, same JSON types)
        costs a fraction of parsing it again. Every node gets its own copy of the model,
        with its own lists and dicts in ``extra``."""
        if not isinstance(value, dict) or not value:
            return None
        slug = value.get("slug")
        key = (kind, slug if isinstance(slug, str) else None)
        memo = self._embedded_memo
        hit = memo.get(key)
        if hit is not None and hit[0] == value and hit[1] == _types(value):
            return hit[2]()
        model = self._embedded(value, parse)
        if model is not None:
            if len(memo) >= 64:
                memo.clear()
            memo[key] = (copy.deepcopy(value), _types(value), _copier(model))
        return model

    def _node_size(self, droplet: dict[str, Any]) -> NodeSize | None:
        size = self._embedded(droplet.get("size"), self._to_size)
        if isinstance(size, NodeSize):
            return size
        slug = droplet.get("size_slug")
        if not isinstance(slug, str) or not slug:
            return None
        # Older payloads carry only size_slug: describe the size from the droplet's own figures.
        return NodeSize(slug, slug, opt_int(droplet.get("memory")) or 0, opt_int(droplet.get("disk")) or 0,
                        None, self._known_price(slug), self, {"partial": True},
                        opt_int(droplet.get("vcpus")))

    @staticmethod
    def _known_price(slug: str) -> float | None:
        from cloudkit.pricing import get_size_price

        try:
            return get_size_price("digitalocean", slug)
        except CloudkitError:
            return None

    @parser("size")
    def _to_size(self, data: Any) -> NodeSize:
        size = as_dict(data, "size")
        slug = req(size, "slug", str, "size").strip()
        if not slug:
            raise MalformedResponseError("size: field 'slug' is empty")
        monthly = opt_float(size.get("price_monthly"))
        hourly = opt_float(size.get("price_hourly"))
        if hourly is None and monthly is not None:
            hourly = round(monthly / 672, 5)  # DigitalOcean bills 672 hours (28 days) a month at most
        if hourly is None:
            hourly = self._known_price(slug)
        vcpus = opt_int(size.get("vcpus"))
        transfer = opt_float(size.get("transfer"))
        extra: dict[str, Any] = {
            "price_monthly": monthly,
            "regions": _strings(size.get("regions")),
            "available": _bool_or_none(size.get("available")),
            "description": _str_or_none(size.get("description")),
            "transfer": transfer,
            "vcpus": vcpus,
        }
        return NodeSize(slug, slug, opt_int(size.get("memory")) or 0, opt_int(size.get("disk")) or 0,
                        transfer, hourly, self, extra, vcpus)

    @parser("image")
    def _to_image(self, data: Any) -> NodeImage:
        image = as_dict(data, "image")
        image_id = req_id(image, "id", "image")
        slug = _str_or_none(image.get("slug"))
        name = _str_or_none(image.get("name")) or slug or image_id
        extra: dict[str, Any] = {
            "slug": slug,
            "distribution": _str_or_none(image.get("distribution")),
            "type": _str_or_none(image.get("type")),
            "public": _bool_or_none(image.get("public")),
            "regions": _strings(image.get("regions")),
            "min_disk_size": opt_int(image.get("min_disk_size")),
            "size_gigabytes": opt_float(image.get("size_gigabytes")),
            "created_at": _str_or_none(image.get("created_at")),
            "status": _str_or_none(image.get("status")),
            "description": _str_or_none(image.get("description")),
            "tags": _strings(image.get("tags")),
        }
        return NodeImage(image_id, name, self, extra)

    @parser("region")
    def _to_location(self, data: Any) -> NodeLocation:
        region = as_dict(data, "region")
        slug = req(region, "slug", str, "region").strip()
        if not slug:
            raise MalformedResponseError("region: field 'slug' is empty")
        name = _str_or_none(region.get("name")) or slug
        extra: dict[str, Any] = {
            "available": _bool_or_none(region.get("available")),
            "features": _strings(region.get("features")),
            "sizes": _strings(region.get("sizes")),
        }
        return NodeLocation(slug, name, _COUNTRIES.get(slug.rstrip("0123456789")), self, extra)

    @parser("ssh_key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        key = as_dict(data, "ssh_key")
        key_id = req_id(key, "id", "ssh_key")
        name = req(key, "name", str, "ssh_key")
        public_key = key.get("public_key")
        public_key = public_key if isinstance(public_key, str) else ""
        fingerprint = _str_or_none(key.get("fingerprint"))
        return KeyPair(name, public_key, fingerprint, self, id=key_id, extra={"id": key.get("id")})

    @parser("action")
    def _to_action(self, data: Any) -> DigitalOceanAction:
        action = as_dict(data, "action")
        action_id = req_id(action, "id", "action")
        region = action.get("region")
        region_slug = _str_or_none(action.get("region_slug"))
        if region_slug is None:
            region_slug = _str_or_none(region.get("slug")) if isinstance(region, dict) else _str_or_none(region)
        resource = action.get("resource_id")
        return DigitalOceanAction(
            id=action_id,
            type=_str_or_none(action.get("type")) or "unknown",
            status=_str_or_none(action.get("status")) or "in-progress",
            resource_id=str(resource) if isinstance(resource, (int, str)) and not isinstance(
                resource, bool) and str(resource) else None,
            resource_type=_str_or_none(action.get("resource_type")),
            started_at=parse_datetime(action.get("started_at")),
            completed_at=parse_datetime(action.get("completed_at")),
            region=region_slug,
        )

    def _created_node(self, body: Any, name: str) -> Node:
        """The node from a create answer (``{"droplet", "links"}``); older answers that carry only
        the create action give a pending node with the droplet id from that action."""
        answer = as_dict(body, "POST /v2/droplets")
        action_id = self._create_action_id(answer)
        if isinstance(answer.get("droplet"), dict):
            node = self._to_node(answer["droplet"])
        elif isinstance(answer.get("action"), dict):
            action = self._to_action(answer["action"])
            if action.resource_id is None:
                raise MalformedResponseError("POST /v2/droplets: the create action names no droplet")
            action_id = action_id or action.id
            node = Node(action.resource_id, name, NodeState.PENDING, [], [], self,
                        extra={"status": "new", "region": action.region})
        else:
            raise MalformedResponseError("POST /v2/droplets: the answer carries no droplet")
        if action_id:
            node.extra["action_id"] = action_id
        return node

    @staticmethod
    def _create_action_id(answer: dict[str, Any]) -> str | None:
        links = answer.get("links")
        actions = links.get("actions") if isinstance(links, dict) else None
        if not isinstance(actions, list):
            return None
        for item in actions:
            if isinstance(item, dict) and item.get("rel") in ("create", None):
                value = item.get("id")
                if isinstance(value, (int, str)) and not isinstance(value, bool):
                    return str(value)
        return None
