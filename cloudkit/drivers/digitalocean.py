"""DigitalOcean API v2: droplets, sizes, images, regions, SSH keys, droplet actions and tags.

``get_driver(Provider.DIGITAL_OCEAN)(token)`` talks to ``https://api.digitalocean.com`` with
``Authorization: Bearer <token>``. Listings are fetched ``per_page=200`` at a time: the first
page says how many pages there are (``links.pages.last``, else ``meta.total``) and the rest are
fetched concurrently. Errors carry DigitalOcean's own ``message`` (and its ``id`` as the code).

Model mapping (decisions recorded here, see also ``fixtures/digitalocean/README.md``):

* node id: the droplet id as a string; state from ``status`` (``NODE_STATE_MAP``);
* ``public_ips``: the public IPv4 addresses, then the public IPv6 ones; ``private_ips``: the
  private IPv4 addresses (then any private IPv6). Placeholder gateways (``"<nil>"``, ``"nil"``)
  become None in ``node.extra["addresses"]``;
* size: ``id``/``name`` = slug, ``ram`` MB, ``disk`` GB, ``bandwidth`` = ``transfer`` exactly as
  the API gives it (TB per month), ``price`` = ``price_hourly`` USD; monthly price, regions,
  availability in ``extra``;
* image: ``id`` = str(image id), ``name`` = image name, slug and distribution in ``extra``;
* location: ``id`` = region slug, ``name`` = region name, ``country`` an ISO code derived from
  the slug's city prefix where known; ``available`` in ``extra`` (every region is listed unless
  ``ex_available=True``).
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cloudkit.connection import BearerTokenConnection
from cloudkit.driver import ACTIONS, DEFAULT_NODE_ACTIONS, NodeDriver, object_id
from cloudkit.drivers._digitalocean_storage import DigitalOceanStorageMixin
from cloudkit.errors import (
    CloudkitError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    ValidationError,
    WaitTimeoutError,
)
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
from cloudkit.parsing import (
    as_dict,
    as_list,
    is_private_ip,
    opt_float,
    opt_int,
    parse_datetime,
    parser,
    req,
    req_id,
)
from cloudkit.response import JsonResponse, parse_retry_after
from cloudkit.sshkeys import fingerprint_md5, parse_public_key
from cloudkit.surface import alias

__all__ = [
    "DigitalOceanAction",
    "DigitalOceanConnection",
    "DigitalOceanNodeDriver",
    "DigitalOceanResponse",
]

API_HOST = "api.digitalocean.com"
#: The largest page the API serves.
PAGE_SIZE = 200

# Client-side rules, from DigitalOcean's API description.
_NAME_RE = re.compile(r"^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$")
_TAG_RE = re.compile(r"^[a-zA-Z0-9_\-:]+$")
_SLUG_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._\-]*$")
_REGION_RE = re.compile(r"^[a-z0-9]+$")
_FINGERPRINT_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){15}$")
_MAX_NAME = 255
_MAX_USER_DATA = 64 * 1024
_NO_GATEWAY = frozenset({"", "<nil>", "nil", "null", "none"})
_DIGITS = frozenset("0123456789")

#: City prefix of a region slug → ISO 3166 country code.
_COUNTRIES = {
    "nyc": "US", "sfo": "US", "atl": "US", "ric": "US", "ams": "NL", "sgp": "SG", "lon": "GB",
    "fra": "DE", "tor": "CA", "blr": "IN", "syd": "AU",
}

_RUNNING_ACTIONS = frozenset({"reboot_node", "stop_node", "destroy_node", "ex_power_cycle_node",
                              "ex_rebuild_node", "ex_rename_node"})
_STOPPED_ACTIONS = frozenset({"start_node", "destroy_node", "ex_resize_node", "ex_rebuild_node",
                              "ex_rename_node"})
_EX_ACTIONS = ("ex_power_cycle_node", "ex_rebuild_node", "ex_rename_node", "ex_resize_node")


# --------------------------------------------------------------------------- HTTP layer


class DigitalOceanResponse(JsonResponse):
    """Maps DigitalOcean error bodies (``{"id", "message"}``) to cloudkit errors."""

    def parse_error(self) -> tuple[str, str | None]:
        body = self.json_error_body()
        if isinstance(body, dict):
            code = body.get("id")
            code_text = code if isinstance(code, str) and code.strip() else None
            message = body.get("message")
            if isinstance(message, str) and message.strip():
                return message.strip(), code_text
            error = body.get("error")  # POST /v2/tags answers {"error", "messages", "root_causes"}
            if isinstance(error, str) and error.strip():
                return error.strip(), code_text
            if code_text:
                return code_text, code_text
        return self._fallback_message(), None

    def retry_after(self) -> float | None:
        """``Retry-After`` when sent; else, once the hourly allowance is spent
        (``ratelimit-remaining: 0``), the time until ``ratelimit-reset``."""
        seconds = parse_retry_after(self.header("retry-after"))
        if seconds is not None:
            return seconds
        remaining = self.header("ratelimit-remaining")
        if remaining is not None and remaining.strip() not in ("0", ""):
            return None  # a burst limit: back off briefly instead of waiting for the reset
        reset = opt_float(self.header("ratelimit-reset"))
        if reset is None:
            return None
        return max(0.0, reset - time.time()) if reset > 1e9 else max(0.0, reset)


class DigitalOceanConnection(BearerTokenConnection):
    """Bearer-token connection to api.digitalocean.com."""

    host = API_HOST
    responseCls = DigitalOceanResponse


# --------------------------------------------------------------------------- actions


@dataclass(eq=False)
class DigitalOceanAction:
    """A droplet action (reboot, power_off, resize, ...) as DigitalOcean reports it."""

    id: str
    type: str
    status: str
    resource_id: str | None = None
    resource_type: str | None = None
    started_at: _dt.datetime | None = None
    completed_at: _dt.datetime | None = None
    region: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True once the action is no longer in progress."""
        return self.status != "in-progress"


# --------------------------------------------------------------------------- helpers


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


def _page_number(link: Any) -> int | None:
    if not isinstance(link, str):
        return None
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).get("page")
    number = opt_int(values[0]) if values else None
    return number if number is not None and number >= 1 else None


def _total_pages(first: Any, _page_size: int) -> int | None:
    """The page count a listing's first page claims (``links.pages.last``), if any."""
    if not isinstance(first, dict):
        return None
    links = first.get("links")
    pages = links.get("pages") if isinstance(links, dict) else None
    return _page_number(pages.get("last")) if isinstance(pages, dict) else None


def _total_items(first: Any) -> int | None:
    """The item count a listing's first page claims (``meta.total``), if any."""
    meta = first.get("meta") if isinstance(first, dict) else None
    return opt_int(meta.get("total")) if isinstance(meta, dict) else None


def _check_name(name: Any, what: str = "droplet name") -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{what} must be a non-empty string")
    if len(name) > _MAX_NAME:
        raise ValidationError(f"{what} is longer than {_MAX_NAME} characters")
    if not _NAME_RE.match(name):
        raise ValidationError(
            f"{what} {name[:60]!r} is not a valid hostname: use letters, digits, '.' and '-', "
            "starting and ending with a letter or digit (no spaces or underscores)")
    return name


def _check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag:
        raise ValidationError("tag must be a non-empty string")
    if len(tag) > _MAX_NAME or not _TAG_RE.match(tag):
        raise ValidationError(f"tag {tag[:60]!r} is invalid: use up to {_MAX_NAME} letters, digits, "
                              "'_', '-' and ':'")
    return tag


def _merge_create_attr(attr: Mapping[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """libcloud's ``ex_create_attr`` folded into create_node's own arguments (``given``)."""
    if not isinstance(attr, Mapping):
        raise ValidationError("ex_create_attr must be a dict of droplet fields")
    merged = dict(given)
    for key, value in attr.items():
        if key not in given:
            raise ValidationError(f"ex_create_attr: DigitalOcean takes no droplet field {str(key)[:40]!r} here "
                                  f"(known: {', '.join(sorted(given))})")
        if given[key] is not None:
            raise ValidationError(f"{key} is given twice (in ex_create_attr and as ex_{key})")
        merged[key] = value
    return merged


def _check_bool(value: Any, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValidationError(f"{what} must be True or False, not {type(value).__name__}")


# --------------------------------------------------------------------------- the driver


class DigitalOceanNodeDriver(DigitalOceanStorageMixin, NodeDriver):
    """DigitalOcean droplets through API v2."""

    name = "DigitalOcean"
    type = "digitalocean"
    website = "https://www.digitalocean.com"
    credential_names: ClassVar[tuple[str, ...]] = ("TOKEN",)
    connectionCls = DigitalOceanConnection
    features: ClassVar[dict[str, list[str]]] = {"create_node": ["ssh_key"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = {
        "new": NodeState.PENDING,
        "active": NodeState.RUNNING,
        "off": NodeState.STOPPED,
        "archive": NodeState.TERMINATED,
    }
    #: What each state allows: start only when off, reboot/stop/power-cycle only when running,
    #: resize only when off (DigitalOcean refuses to resize a running droplet), rename and
    #: rebuild in either, destroy also while new, nothing once archived.
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = {
        **DEFAULT_NODE_ACTIONS,
        NodeState.RUNNING: _RUNNING_ACTIONS,
        NodeState.STOPPED: _STOPPED_ACTIONS,
        NodeState.PENDING: frozenset({"destroy_node"}),
        NodeState.TERMINATED: frozenset(),
        NodeState.UNKNOWN: frozenset(ACTIONS) | frozenset(_EX_ACTIONS),
    }
    API_VERSIONS: ClassVar[tuple[str, ...]] = ("v2",)
    #: Seconds between polls of a droplet action (``ex_wait_for_action``).
    action_poll_interval: float = 3.0

    #: A parse cache: not pickled with the driver (it arrives empty).
    transient_attributes: ClassVar[frozenset[str]] = frozenset({"_embedded_memo"})
    connection: DigitalOceanConnection

    def __init__(self, key: str, secret: str | None = None, secure: bool = True,
                 host: str | None = None, port: int | None = None, api_version: str | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(key, str) or not key.strip():
            raise ConfigurationError("DigitalOcean needs an API token (a non-empty string)")
        if secret:
            raise ConfigurationError("DigitalOcean API v2 takes only a token; do not pass a secret")
        super().__init__(key.strip(), None, secure, host, port, api_version=api_version, **kwargs)
        #: (kind, slug) -> (raw object, its value types, a function returning a fresh copy of
        #: its parse); see ``_embedded_model``.
        self._embedded_memo: dict[tuple[str, str | None],
                                  tuple[dict[str, Any], tuple[type, ...], Callable[[], Any]]] = {}

    # -- request helpers --------------------------------------------------------------------

    def _list(self, path: str, key: str, params: Mapping[str, Any] | None = None,
              transform: Callable[[Any], Any] | None = None) -> list[Any]:
        """Every item of a paged listing (``key`` names the array in each page), each
        passed through ``transform`` (a model builder with an ``id``) as its page arrives
        when given; an item seen twice (pages shift while droplets come and go) counts once."""

        def extract(body: Any) -> list[Any]:
            page = as_dict(body, f"GET {path}")
            return as_list(page.get(key), f"GET {path}: '{key}'")

        return self.connection.paginate(path, extract, _total_pages, params=params, total_items=_total_items,
                                         page_size=self.connection.page_size or PAGE_SIZE, transform=transform)

    def _get(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = as_dict(self.connection.request(path, params=params).object, f"GET {path}")
        return as_dict(body.get(key), f"GET {path}: '{key}'")

    @staticmethod
    def _droplet_id(node: Any) -> str:
        node_id = object_id(node, "node")
        if not node_id.isdigit():
            raise ValidationError(f"a droplet id is a number, not {node_id[:40]!r}")
        return node_id

    @staticmethod
    def _size_slug(size: Any) -> str:
        slug = object_id(size, "size")
        if not _SLUG_RE.match(slug):
            raise ValidationError(f"size must be a size slug like 's-1vcpu-1gb', not {slug[:40]!r}")
        return slug

    @staticmethod
    def _image_ref(image: Any) -> int | str:
        ref = object_id(image, "image")
        if ref.isdigit():
            return int(ref)
        if not _SLUG_RE.match(ref):
            raise ValidationError(
                f"image must be an image id or slug like 'ubuntu-24-04-x64', not {ref[:40]!r}")
        return ref

    @staticmethod
    def _region_slug(location: Any) -> str:
        slug = object_id(location, "location")
        if not _REGION_RE.match(slug):
            raise ValidationError(f"location must be a region slug like 'nyc3', not {slug[:40]!r}")
        return slug

    @staticmethod
    def _key_ref(key: Any) -> int | str:
        if isinstance(key, KeyPair):
            key = key.id or key.fingerprint
        if isinstance(key, int) and not isinstance(key, bool):
            return key
        if isinstance(key, str):
            text = key.strip()
            if text.isdigit():
                return int(text)
            if _FINGERPRINT_RE.match(text):
                return text.lower()
        raise ValidationError(
            f"SSH keys are given as key ids, MD5 fingerprints ('aa:bb:...') or KeyPair objects, "
            f"not {str(key)[:60]!r}")

    # -- parsing ----------------------------------------------------------------------------

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

    # -- nodes ------------------------------------------------------------------------------

    def node_actions(self, node: Node) -> frozenset[str]:
        """The actions ``node``'s state allows; none while the droplet is ``locked`` (an action
        is running on it, and DigitalOcean refuses every other until it ends)."""
        if node.extra.get("locked") is True:
            return frozenset()
        return super().node_actions(node)

    def list_nodes(self, tag: str | None = None, ex_type: str | None = None) -> list[Node]:
        """Every droplet, GPU droplets included (only those tagged ``tag``, filtered by the API,
        when given).

        The API lists GPU droplets only when asked with ``type=gpus``, so both listings are
        fetched, concurrently; ``ex_type="droplets"`` or ``"gpus"`` asks for one kind only.
        The API cannot combine a tag with a type: with ``tag``, its one tag listing is used.
        """
        if ex_type not in (None, "droplets", "gpus"):
            raise ValidationError(f"ex_type must be 'droplets' or 'gpus', not {ex_type!r}")
        if tag is not None:
            if ex_type is not None:
                raise ValidationError("DigitalOcean cannot filter droplets by tag and type at once")
            return self._list("/v2/droplets", "droplets", {"tag_name": _check_tag(tag)}, self._to_node)
        if ex_type is not None:
            return self._list("/v2/droplets", "droplets", {"type": ex_type}, self._to_node)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cloudkit-gpus") as pool:
            gpus = pool.submit(self._list, "/v2/droplets", "droplets", {"type": "gpus"}, self._to_node)
            nodes: list[Node] = self._list("/v2/droplets", "droplets", None, self._to_node)
            listed = {node.id for node in nodes}
            nodes.extend(node for node in gpus.result() if node.id not in listed)
        return nodes

    def get_node(self, node_id: str) -> Node:
        """One droplet by id; NotFoundError when it does not exist (at once, without a request,
        for an id that is not a number: no droplet can have it)."""
        wanted = object_id(node_id, "node")
        if not wanted.isdigit():
            raise NotFoundError(f"droplet {wanted[:40]!r} not found: droplet ids are numbers", None,
                                driver=self.name)
        return self._to_node(self._get(f"/v2/droplets/{wanted}", "droplet"))

    def create_node(
        self,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str,
        location: NodeLocation | str | None = None,
        auth: Any = None,
        *,
        ex_ssh_keys: Sequence[int | str | KeyPair] | None = None,
        ex_user_data: str | None = None,
        ex_tags: Sequence[str] | None = None,
        ex_vpc_uuid: str | None = None,
        ex_ipv6: bool | None = None,
        ex_monitoring: bool | None = None,
        ex_backups: bool | None = None,
        ex_volumes: Sequence[str] | None = None,
        ex_create_attr: Mapping[str, Any] | None = None,
        ex_ssh_key_ids: Sequence[int | str] | None = None,
        ex_private_networking: bool | None = None,
    ) -> Node:
        """Create a droplet; the node comes back ``pending`` with no addresses yet.

        ``size``, ``image`` and ``location`` take model objects or their ids/slugs (an image
        by numeric id or slug). ``auth=NodeAuthSSHKey(pubkey)`` makes sure the key is on the
        account (found by its fingerprint, imported otherwise) and installs it; ``ex_ssh_keys``
        adds keys already on the account (ids, fingerprints or KeyPair objects). Everything is
        checked before any request is sent. ``node.extra["action_id"]`` is the create action.

        libcloud's ``ex_create_attr`` (a dict of request fields: ``backups``, ``ipv6``,
        ``private_networking``, ``tags``, ``ssh_keys``, ``monitoring``, ``user_data``,
        ``vpc_uuid``, ``volumes``) and ``ex_ssh_key_ids`` (key ids, like ``ex_ssh_keys``) work
        too; a field given both ways, or one the API does not take, is refused.
        """
        if ex_create_attr:
            given = {"backups": ex_backups, "ipv6": ex_ipv6, "private_networking": ex_private_networking,
                     "tags": ex_tags, "ssh_keys": ex_ssh_keys, "monitoring": ex_monitoring,
                     "user_data": ex_user_data, "vpc_uuid": ex_vpc_uuid, "volumes": ex_volumes}
            merged = _merge_create_attr(ex_create_attr, given)
            ex_backups, ex_ipv6, ex_private_networking = (merged["backups"], merged["ipv6"],
                                                          merged["private_networking"])
            ex_tags, ex_ssh_keys, ex_monitoring = merged["tags"], merged["ssh_keys"], merged["monitoring"]
            ex_user_data, ex_vpc_uuid, ex_volumes = merged["user_data"], merged["vpc_uuid"], merged["volumes"]
        if ex_ssh_key_ids is not None:
            ex_ssh_keys = [*self._sequence(ex_ssh_keys, "ex_ssh_keys"),
                           *self._sequence(ex_ssh_key_ids, "ex_ssh_key_ids")]
        body: dict[str, Any] = {"name": _check_name(name), "size": self._size_slug(size),
                                "image": self._image_ref(image)}
        if location is not None:
            body["region"] = self._region_slug(location)
        keys: list[int | str] = [self._key_ref(k) for k in self._sequence(ex_ssh_keys, "ex_ssh_keys")]
        pubkey: str | None = None
        if isinstance(auth, NodeAuthSSHKey):
            parse_public_key(auth.pubkey)
            pubkey = auth.pubkey.strip()
        elif isinstance(auth, NodeAuthPassword):
            raise ValidationError("DigitalOcean does not set root passwords at create time; "
                                  "use auth=NodeAuthSSHKey(...) or ex_ssh_keys")
        elif auth is not None:
            raise ValidationError("auth must be a NodeAuthSSHKey")
        if ex_user_data is not None:
            if not isinstance(ex_user_data, str):
                raise ValidationError("ex_user_data must be a string")
            if len(ex_user_data.encode("utf-8")) > _MAX_USER_DATA:
                raise ValidationError(f"ex_user_data is larger than {_MAX_USER_DATA} bytes")
            body["user_data"] = ex_user_data
        if ex_tags is not None:
            body["tags"] = [_check_tag(t) for t in self._sequence(ex_tags, "ex_tags")]
        if ex_vpc_uuid is not None:
            body["vpc_uuid"] = self._check_uuid(ex_vpc_uuid)
        if ex_volumes is not None:
            volumes = list(self._sequence(ex_volumes, "ex_volumes"))
            body["volumes"] = [self._check_uuid(v, "volume id") for v in volumes]
        for field_name, value in (("ipv6", ex_ipv6), ("monitoring", ex_monitoring), ("backups", ex_backups),
                                  ("private_networking", ex_private_networking)):
            flag = _check_bool(value, f"ex_{field_name}")
            if flag is not None:
                body[field_name] = flag
        if pubkey is not None:
            key_ref = self._ensure_ssh_key(pubkey)
            if key_ref not in keys:
                keys.append(key_ref)
        if keys:
            body["ssh_keys"] = keys
        response = self.connection.request(
            "/v2/droplets", data=body, method="POST",
            outcome_hint=f"look for a droplet named {name!r} (list_nodes) before trying again")
        return self._created_node(response.object, name)

    @staticmethod
    def _sequence(value: Any, what: str) -> Sequence[Any]:
        if value is None:
            return ()
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValidationError(f"{what} must be a list")
        return value

    @staticmethod
    def _check_uuid(value: Any, what: str = "ex_vpc_uuid") -> str:
        if isinstance(value, str):
            try:
                return str(uuid.UUID(value.strip()))
            except ValueError:
                pass
        raise ValidationError(f"{what} must be a UUID, not {str(value)[:40]!r}")

    def _ensure_ssh_key(self, pubkey: str) -> int | str:
        """The id of the account's key with this public key's fingerprint, importing it first
        when the account does not have it yet."""
        existing = self.ex_get_key_pair_by_fingerprint(fingerprint_md5(pubkey))
        if existing is None:
            _, _, comment = parse_public_key(pubkey)
            label = comment.strip()[:_MAX_NAME] or f"cloudkit-{fingerprint_md5(pubkey).replace(':', '')[:12]}"
            try:
                existing = self.import_key_pair_from_string(label, pubkey)
            except ValidationError:
                # Someone added the same key meanwhile ("SSH Key is already in use").
                existing = self.ex_get_key_pair_by_fingerprint(fingerprint_md5(pubkey))
                if existing is None:
                    raise
        return int(existing.id) if existing.id and existing.id.isdigit() else fingerprint_md5(pubkey)

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Delete a droplet (True on 204)."""
        self._check_action(node, "destroy_node", ex_force)
        droplet_id = self._droplet_id(node)
        self.connection.request(f"/v2/droplets/{droplet_id}", method="DELETE")
        return True

    # -- droplet actions --------------------------------------------------------------------

    def _act(self, node: Node | str, kind: str, body_extra: Mapping[str, Any] | None, *,
             check: str | None, ex_force: bool, ex_wait: bool) -> bool:
        if check is not None:
            self._check_action(node, check, ex_force)
        self.ex_perform_action(self._droplet_id(node), kind, wait=ex_wait, **(body_extra or {}))
        return True

    def ex_perform_action(self, node: Node | str, action_type: str, *, wait: bool = False,
                          timeout: float = 600.0, **fields: Any) -> DigitalOceanAction | None:
        """POST a droplet action (``{"type": action_type, **fields}``) and return the action
        DigitalOcean reports (None when the answer does not describe one); with ``wait=True``
        poll it until it completes (``ex_wait_for_action``). No state check is made here."""
        droplet_id = self._droplet_id(node)
        if not isinstance(action_type, str) or not re.match(r"^[a-z_0-9]+$", action_type):
            raise ValidationError(f"unknown droplet action type {str(action_type)[:40]!r}")
        response = self.connection.request(
            f"/v2/droplets/{droplet_id}/actions", data={"type": action_type, **fields}, method="POST",
            outcome_hint=f"check droplet {droplet_id}'s recent actions (ex_list_actions) before "
                         f"sending {action_type} again")
        body = response.object
        action: DigitalOceanAction | None = None
        if isinstance(body, dict) and isinstance(body.get("action"), dict):
            if wait:
                action = self._to_action(body["action"])
            else:
                action = self._embedded(body["action"], self._to_action)
        elif wait:
            raise MalformedResponseError(f"POST /v2/droplets/{droplet_id}/actions: no action to wait for",
                                         response.status, driver=self.name)
        if wait and action is not None:
            action = self.ex_wait_for_action(action, timeout=timeout)
        return action

    def reboot_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Reboot gracefully (``reboot`` action)."""
        return self._act(node, "reboot", None, check="reboot_node", ex_force=ex_force, ex_wait=ex_wait)

    def start_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Power a stopped droplet on (``power_on``)."""
        return self._act(node, "power_on", None, check="start_node", ex_force=ex_force, ex_wait=ex_wait)

    def stop_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Shut down gracefully (``shutdown``); ``ex_force=True`` cuts the power (``power_off``)
        and skips the state check."""
        kind = "power_off" if ex_force else "shutdown"
        return self._act(node, kind, None, check="stop_node", ex_force=ex_force, ex_wait=ex_wait)

    def ex_power_cycle_node(self, node: Node | str, ex_force: bool = False, *,
                            ex_wait: bool = False) -> bool:
        """Hard reset (``power_cycle``)."""
        return self._act(node, "power_cycle", None, check="ex_power_cycle_node", ex_force=ex_force,
                         ex_wait=ex_wait)

    def ex_rebuild_node(self, node: Node | str, image: NodeImage | str | int | None = None,
                        ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Reinstall from ``image`` (default: the node's current image). The data is lost."""
        if image is None:
            image = node.image if isinstance(node, Node) else None
            if image is None:
                raise ValidationError("ex_rebuild_node needs an image (the node does not name one)")
        ref = self._image_ref(str(image) if isinstance(image, int) else image)
        return self._act(node, "rebuild", {"image": ref}, check="ex_rebuild_node", ex_force=ex_force,
                         ex_wait=ex_wait)

    def ex_resize_node(self, node: Node | str, size: NodeSize | str, ex_disk: bool = False,
                       ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """Resize a powered-off droplet; ``ex_disk=True`` also grows its disk (permanently)."""
        slug = self._size_slug(size)
        disk = _check_bool(ex_disk, "ex_disk")
        return self._act(node, "resize", {"size": slug, "disk": bool(disk)}, check="ex_resize_node",
                         ex_force=ex_force, ex_wait=ex_wait)

    def ex_rename_node(self, node: Node | str, name: str, ex_force: bool = False, *,
                       ex_wait: bool = False) -> bool:
        """Rename a droplet (its hostname rules apply)."""
        new_name = _check_name(name)
        return self._act(node, "rename", {"name": new_name}, check="ex_rename_node", ex_force=ex_force,
                         ex_wait=ex_wait)

    def ex_get_action(self, action: DigitalOceanAction | str | int) -> DigitalOceanAction:
        """One action by id (``GET /v2/actions/{id}``)."""
        action_id = self._action_id(action)
        return self._to_action(self._get(f"/v2/actions/{action_id}", "action"))

    def ex_list_actions(self, node: Node | str | None = None) -> list[DigitalOceanAction]:
        """The account's actions, or one droplet's (newest first, as the API orders them)."""
        path = "/v2/actions" if node is None else f"/v2/droplets/{self._droplet_id(node)}/actions"
        return [self._to_action(item) for item in self._list(path, "actions")]

    def ex_wait_for_action(self, action: DigitalOceanAction | str | int, timeout: float = 600.0,
                           interval: float | None = None) -> DigitalOceanAction:
        """Poll an action until it is ``completed`` and return it. An ``errored`` action raises
        ProviderError; one still running after ``timeout`` seconds raises WaitTimeoutError."""
        action_id = self._action_id(action)
        current = action if isinstance(action, DigitalOceanAction) else None
        period = self.action_poll_interval if interval is None else max(0.0, interval)
        deadline = time.monotonic() + timeout
        delay = min(0.5, period)
        while True:
            if current is None or not current.done:
                current = self.ex_get_action(action_id)
            if current.status == "completed":
                return current
            if current.status == "errored":
                raise ProviderError(
                    f"DigitalOcean action {current.id} ({current.type}) on {current.resource_type or 'resource'} "
                    f"{current.resource_id or '?'} errored", None, code="errored", driver=self.name)
            if current.done:  # an unknown final status
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"action {current.id} ({current.type}) still {current.status} after {timeout:g}s",
                    condition="action completed", last_states={current.id: current.status},
                    job=current.id)
            time.sleep(min(delay, remaining))
            delay = min(period, max(delay * 1.6, 0.05)) if period else 0.0
            current = None

    @staticmethod
    def _action_id(action: DigitalOceanAction | str | int) -> str:
        value = action.id if isinstance(action, DigitalOceanAction) else action
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if not text.isdigit():
            raise ValidationError(f"an action id is a number, not {str(value)[:40]!r}")
        return text

    # -- catalogue --------------------------------------------------------------------------

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Droplet sizes (only those offered in ``location`` when given)."""
        region = self._region_slug(location) if location is not None else None
        sizes = [self._to_size(item) for item in self._list("/v2/sizes", "sizes")]
        if region is not None:
            sizes = [s for s in sizes if region in s.extra.get("regions", [])]
        return sizes

    def list_images(self, location: NodeLocation | str | None = None, *,
                    ex_type: str | None = None) -> list[NodeImage]:
        """Images: all (default), or ``ex_type="distribution"``, ``"application"`` or
        ``"private"`` (the account's own snapshots and custom images); only those available in
        ``location`` when given."""
        params: dict[str, Any] = {}
        if ex_type in ("distribution", "application"):
            params["type"] = ex_type
        elif ex_type == "private":
            params["private"] = "true"
        elif ex_type not in (None, "all"):
            raise ValidationError("ex_type must be 'distribution', 'application', 'private' or None")
        region = self._region_slug(location) if location is not None else None
        images = [self._to_image(item) for item in self._list("/v2/images", "images", params or None)]
        if region is not None:
            images = [i for i in images if region in i.extra.get("regions", [])]
        return images

    def get_image(self, image_id: NodeImage | str | int) -> NodeImage:
        """One image by numeric id, or a public image by slug."""
        ref = self._image_ref(str(image_id) if isinstance(image_id, int) else image_id)
        return self._to_image(self._get(f"/v2/images/{ref}", "image"))

    def list_locations(self, ex_available: bool = False) -> list[NodeLocation]:
        """Regions, each with ``extra["available"]``; only the available ones with
        ``ex_available=True``."""
        locations = [self._to_location(item) for item in self._list("/v2/regions", "regions")]
        if ex_available:
            locations = [loc for loc in locations if loc.extra.get("available")]
        return locations

    # -- key pairs --------------------------------------------------------------------------

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored on the account."""
        return [self._to_key_pair(item) for item in self._list("/v2/account/keys", "ssh_keys")]

    def get_key_pair(self, name: str) -> KeyPair:
        """A stored key by name, or by id or fingerprint; NotFoundError when absent."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("key pair name must be a non-empty string")
        text = name.strip()
        if text.isdigit() or _FINGERPRINT_RE.match(text):
            return self._to_key_pair(self._get(f"/v2/account/keys/{text.lower()}", "ssh_key"))
        for pair in self.list_key_pairs():
            if pair.name == text:
                return pair
        raise NotFoundError(f"key pair {text!r} not found", 404, driver=self.name)

    def ex_get_key_pair_by_fingerprint(self, fingerprint: str) -> KeyPair | None:
        """The account's key with this MD5 fingerprint, or None."""
        if not isinstance(fingerprint, str) or not _FINGERPRINT_RE.match(fingerprint.strip()):
            raise ValidationError("a fingerprint looks like 'aa:bb:...' (16 hex pairs)")
        try:
            return self._to_key_pair(self._get(f"/v2/account/keys/{fingerprint.strip().lower()}", "ssh_key"))
        except NotFoundError:
            return None

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store an OpenSSH public key line under ``name``."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("key pair name must be a non-empty string")
        if len(name) > _MAX_NAME:
            raise ValidationError(f"key pair name is longer than {_MAX_NAME} characters")
        parse_public_key(key_material)
        response = self.connection.request(
            "/v2/account/keys", data={"name": name.strip(), "public_key": key_material.strip()},
            method="POST",
            outcome_hint=f"look for a key with fingerprint {fingerprint_md5(key_material)} before trying again")
        body = as_dict(response.object, "POST /v2/account/keys")
        return self._to_key_pair(body.get("ssh_key"))

    def delete_key_pair(self, key_pair: KeyPair | str | None = None, key: KeyPair | str | None = None) -> bool:
        """Remove a stored key (a KeyPair, or its id or fingerprint); ``key=`` is libcloud's name."""
        key_pair = alias(key_pair, key, "key_pair", "key")
        if isinstance(key_pair, KeyPair):
            ident = key_pair.id or key_pair.fingerprint
        else:
            ident = key_pair
        ref = self._key_ref(ident)
        self.connection.request(f"/v2/account/keys/{ref}", method="DELETE")
        return True

    # -- tags -------------------------------------------------------------------------------

    def ex_create_tag(self, name: str) -> str:
        """Create a tag (creating an existing one is harmless); returns its canonical name."""
        tag = _check_tag(name)
        response = self.connection.request("/v2/tags", data={"name": tag}, method="POST", idempotent=True)
        body = as_dict(response.object, "POST /v2/tags")
        created = as_dict(body.get("tag"), "POST /v2/tags: 'tag'")
        canonical = created.get("name")
        return canonical if isinstance(canonical, str) and canonical else tag

    def ex_list_tags(self) -> list[str]:
        """The names of the account's tags."""
        names = []
        for item in self._list("/v2/tags", "tags"):
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
            else:
                raise MalformedResponseError("GET /v2/tags: a tag without a name", driver=self.name)
        return names

    def ex_delete_tag(self, name: str) -> bool:
        """Delete a tag (droplets keep running; they just lose the tag)."""
        tag = _check_tag(name)
        self.connection.request(f"/v2/tags/{tag}", method="DELETE")
        return True

    def _tag_body(self, node: Node | str) -> dict[str, Any]:
        return {"resources": [{"resource_id": self._droplet_id(node), "resource_type": "droplet"}]}

    def ex_tag_node(self, node: Node | str, tag: str) -> bool:
        """Tag a droplet, creating the tag first when the account does not have it."""
        name = _check_tag(tag)
        body = self._tag_body(node)
        try:
            self.connection.request(f"/v2/tags/{name}/resources", data=body, method="POST", idempotent=True)
        except NotFoundError:
            name = self.ex_create_tag(name)
            self.connection.request(f"/v2/tags/{name}/resources", data=body, method="POST", idempotent=True)
        if isinstance(node, Node) and name not in node.tags:
            node.tags.append(name)
        return True

    def ex_untag_node(self, node: Node | str, tag: str) -> bool:
        """Remove a tag from a droplet."""
        name = _check_tag(tag)
        self.connection.request(f"/v2/tags/{name}/resources", data=self._tag_body(node), method="DELETE")
        if isinstance(node, Node) and name in node.tags:
            node.tags.remove(name)
        return True

    # -- account ----------------------------------------------------------------------------

    def verify_credentials(self) -> bool:
        """``GET /v2/account``: True for a good token; InvalidCredsError (401) or
        ForbiddenError (403, a token without ``account:read``) otherwise."""
        self._get("/v2/account", "account")
        return True

    def ex_account_info(self) -> dict[str, Any]:
        """The account (``GET /v2/account``) as the API gives it: limits, email, status."""
        return self._get("/v2/account", "account")

    # -- libcloud's names for the same things -------------------------------------------------

    def ex_get_node_details(self, node_id: Node | str) -> Node:
        """libcloud's name for ``get_node``."""
        return self.get_node(object_id(node_id, "node"))

    def ex_power_on_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for ``start_node`` (``power_on``)."""
        return self.start_node(node, ex_force)

    def ex_shutdown_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for a graceful ``stop_node`` (``shutdown``)."""
        return self._act(node, "shutdown", None, check="stop_node", ex_force=ex_force, ex_wait=False)

    def ex_hard_reboot(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for ``ex_power_cycle_node`` (``power_cycle``)."""
        return self.ex_power_cycle_node(node, ex_force)

    def ex_enable_ipv6(self, node: Node | str) -> bool:
        """Give a droplet an IPv6 address (``enable_ipv6`` action)."""
        return self._act(node, "enable_ipv6", None, check=None, ex_force=True, ex_wait=False)

    def ex_change_kernel(self, node: Node | str, kernel_id: int | str) -> bool:
        """Boot a droplet with another kernel next time (``change_kernel``; legacy droplets)."""
        text = str(kernel_id).strip() if isinstance(kernel_id, (int, str)) and not isinstance(kernel_id, bool) else ""
        if not text.isdigit():
            raise ValidationError(f"kernel_id is a number, not {str(kernel_id)[:40]!r}")
        return self._act(node, "change_kernel", {"kernel": int(text)}, check=None, ex_force=True, ex_wait=False)

    def ex_list_events(self) -> list[dict[str, Any]]:
        """The account's actions as the API gives them (libcloud's events); ``ex_list_actions``
        gives them as ``DigitalOceanAction`` objects."""
        return [as_dict(item, "action") for item in self._list("/v2/actions", "actions")]

    def ex_get_event(self, event_id: str | int) -> dict[str, Any]:
        """One action (``GET /v2/actions/{id}``) as the API gives it."""
        return self._get(f"/v2/actions/{self._action_id(event_id)}", "action")
