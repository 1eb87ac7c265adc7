"""DigitalOcean bodies turned into models: droplets, sizes, images, regions, keys, actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudkit.address_entries import X_ADDRESS, X_TEXT_INT, AddressEntries
from cloudkit.drivers.digitalocean.base import DigitalOceanAction, DigitalOceanDriverBase
from cloudkit.errors import CloudkitError, MalformedResponseError
from cloudkit.field_maps import (
    REQ_ID,
    REQ_TEXT,
    TEXTS,
    X_ANY,
    X_FLAG,
    X_INT,
    X_INTS,
    X_OBJECT,
    X_TEXT,
    X_TEXTS,
    FieldMap,
)
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.parsing import (
    as_dict,
    opt_flag,
    opt_float,
    opt_int,
    opt_text,
    parse_datetime,
    parser,
    req,
    req_id,
    str_items,
)

#: City prefix of a region slug → ISO 3166 country code.
_COUNTRIES = {
    "nyc": "US", "sfo": "US", "atl": "US", "ric": "US", "ams": "NL", "sgp": "SG", "lon": "GB",
    "fra": "DE", "tor": "CA", "blr": "IN", "syd": "AU",
}

#: A droplet's own fields (see cloudkit.parsing for what each kind accepts), and what
#: ``Node.extra`` keeps of it.
_DROPLET = FieldMap("droplet", {
    "id": REQ_ID, "name": REQ_TEXT, "status": X_TEXT, "created_at": X_ANY, "tags": TEXTS,
    "networks": X_OBJECT, "image": X_ANY, "size": X_ANY}, extra={
    "status": X_TEXT, "memory": X_INT, "vcpus": X_INT, "disk": X_INT, "locked": X_FLAG,
    "created_at": X_TEXT, "size_slug": X_TEXT, "features": X_TEXTS, "backup_ids": X_INTS,
    "snapshot_ids": X_INTS, "volume_ids": X_TEXTS, "vpc_uuid": X_TEXT, "kernel": X_OBJECT,
    "region": (("region", "slug"), X_TEXT), "region_name": (("region", "name"), X_TEXT)})
#: A droplet's ``networks``: ``{"v4": [...], "v6": [...]}``, each entry's gateway None for the
#: placeholders sent when there is none, its netmask dotted text (IPv4) or a prefix length (IPv6).
_NETWORKS = AddressEntries("droplet networks", ("v4", "v6"), address="ip_address", kind="type",
                           fields={"gateway": X_ADDRESS, "netmask": X_TEXT_INT})


def _or_none(parse: Callable[[Any], Any], value: Any) -> Any:
    try:
        return parse(value)
    except MalformedResponseError:
        return None


class DigitalOceanParsing(DigitalOceanDriverBase):
    """The ``_to_*`` functions: plain dicts from the API to cloudkit models."""

    @parser("droplet")
    def _to_node(self, data: Any) -> Node:
        node_id, name, status, created_at, tags, networks, image, size, extra = _DROPLET.values(data)
        public_ips, private_ips, addresses = _NETWORKS.split(networks)
        image = self._embedded_memo.embedded("image", image, self._to_image)
        extra["image_id"] = image.id if image else None
        extra["image_slug"] = image.extra.get("slug") if image else None
        extra["networks"] = networks if networks is not None else {}
        extra["addresses"] = addresses
        size = self._embedded_memo.embedded("size", size, self._to_size) or self._node_size(data)
        return Node(node_id, name, self._state(status), public_ips, private_ips, self, size, image,
                    extra, parse_datetime(created_at), tags)

    @staticmethod
    def _embedded(value: Any, parse: Callable[[Any], Any]) -> Any:
        """Parse an embedded object (an action in an answer); None when absent or unusable."""
        return _or_none(parse, value) if isinstance(value, dict) and value else None

    def _node_size(self, droplet: dict[str, Any]) -> NodeSize | None:
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
            "regions": str_items(size.get("regions")),
            "available": opt_flag(size.get("available")),
            "description": opt_text(size.get("description")),
            "transfer": transfer,
            "vcpus": vcpus,
        }
        return NodeSize(slug, slug, opt_int(size.get("memory")) or 0, opt_int(size.get("disk")) or 0,
                        transfer, hourly, self, extra, vcpus)

    @parser("image")
    def _to_image(self, data: Any) -> NodeImage:
        image = as_dict(data, "image")
        image_id = req_id(image, "id", "image")
        slug = opt_text(image.get("slug"))
        name = opt_text(image.get("name")) or slug or image_id
        extra: dict[str, Any] = {
            "slug": slug,
            "distribution": opt_text(image.get("distribution")),
            "type": opt_text(image.get("type")),
            "public": opt_flag(image.get("public")),
            "regions": str_items(image.get("regions")),
            "min_disk_size": opt_int(image.get("min_disk_size")),
            "size_gigabytes": opt_float(image.get("size_gigabytes")),
            "created_at": opt_text(image.get("created_at")),
            "status": opt_text(image.get("status")),
            "description": opt_text(image.get("description")),
            "tags": str_items(image.get("tags")),
        }
        return NodeImage(image_id, name, self, extra)

    @parser("region")
    def _to_location(self, data: Any) -> NodeLocation:
        region = as_dict(data, "region")
        slug = req(region, "slug", str, "region").strip()
        if not slug:
            raise MalformedResponseError("region: field 'slug' is empty")
        name = opt_text(region.get("name")) or slug
        extra: dict[str, Any] = {
            "available": opt_flag(region.get("available")),
            "features": str_items(region.get("features")),
            "sizes": str_items(region.get("sizes")),
        }
        return NodeLocation(slug, name, _COUNTRIES.get(slug.rstrip("0123456789")), self, extra)

    @parser("ssh_key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        key = as_dict(data, "ssh_key")
        key_id = req_id(key, "id", "ssh_key")
        name = req(key, "name", str, "ssh_key")
        public_key = key.get("public_key")
        public_key = public_key if isinstance(public_key, str) else ""
        fingerprint = opt_text(key.get("fingerprint"))
        return KeyPair(name, public_key, fingerprint, self, id=key_id, extra={"id": key.get("id")})

    @parser("action")
    def _to_action(self, data: Any) -> DigitalOceanAction:
        action = as_dict(data, "action")
        action_id = req_id(action, "id", "action")
        region = action.get("region")
        region_slug = opt_text(action.get("region_slug"))
        if region_slug is None:
            region_slug = opt_text(region.get("slug")) if isinstance(region, dict) else opt_text(region)
        resource = action.get("resource_id")
        return DigitalOceanAction(
            id=action_id,
            type=opt_text(action.get("type")) or "unknown",
            status=opt_text(action.get("status")) or "in-progress",
            resource_id=str(resource) if isinstance(resource, (int, str)) and not isinstance(
                resource, bool) and str(resource) else None,
            resource_type=opt_text(action.get("resource_type")),
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
