"""Simulated DigitalOcean API v2 account (droplets, actions, sizes, images, regions,
account, SSH keys, tags), per ``shared/api/digitalocean.md`` and the OpenAPI cut.

Behaviour worth knowing:

- create answers 202 with ``status: "new"`` and empty networks; after ``boot_seconds`` the
  droplet is ``active`` with a public IPv4 (the simulator's ``public_ip``, 127.0.0.1), a
  private 10.x address and, when ``ipv6`` was asked for, a 2001:db8:: address;
- droplet actions answer 201 with an ``in-progress`` action that completes after
  ``action_seconds``; the droplet is ``locked`` meanwhile and a second action is refused
  with 422 ("Droplet already has a pending event."), as the real API does;
- ``resize`` needs the droplet powered off; ``power_on`` on an active droplet and
  ``shutdown``/``power_off``/``reboot`` on an off one are refused with 422;
- lists page with ``page``/``per_page`` (default 20, at most 200), carry ``links.pages``
  (absolute URLs on the simulator) and ``meta.total``;
- droplets of a ``gpu-`` size are GPU droplets: ``GET /v2/droplets`` leaves them out unless
  asked with ``type=gpus`` (which lists only them), as the real API does;
- every answer carries ``ratelimit-limit``/``-remaining``/``-reset``; an injected 429 adds
  ``retry-after``.
"""

from __future__ import annotations

import functools
import itertools
import re
import secrets
import time
import uuid
from typing import Any, ClassVar
from urllib.parse import urlencode

from cloudkit.errors import ValidationError
from cloudkit.sshkeys import fingerprint_md5, parse_public_key
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, Route, dumps, enc, enc_list, int_arg, iso_now

__all__ = ["DigitalOceanAPI"]

NAME_RE = re.compile(r"^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$")
TAG_RE = re.compile(r"^[a-zA-Z0-9_\-:]+$")
_ID = r"(\d+)"

# slug, name, features, available
_REGIONS = [
    ("nyc1", "New York 1", True), ("nyc3", "New York 3", True), ("sfo3", "San Francisco 3", True),
    ("ams3", "Amsterdam 3", True), ("lon1", "London 1", True), ("fra1", "Frankfurt 1", True),
    ("tor1", "Toronto 1", True), ("sgp1", "Singapore 1", True), ("blr1", "Bangalore 1", True),
    ("syd1", "Sydney 1", True), ("nyc2", "New York 2", False),
]
_REGION_FEATURES = ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"]
# slug, memory MB, vcpus, disk GB, transfer TB, monthly USD, hourly USD, description, available
_SIZES = [
    ("s-1vcpu-512mb-10gb", 512, 1, 10, 0.5, 4.0, 0.00595, "Basic", True),
    ("s-1vcpu-1gb", 1024, 1, 25, 1.0, 6.0, 0.00893, "Basic", True),
    ("s-1vcpu-2gb", 2048, 1, 50, 2.0, 12.0, 0.01786, "Basic", True),
    ("s-2vcpu-2gb", 2048, 2, 60, 3.0, 18.0, 0.02679, "Basic", True),
    ("s-2vcpu-4gb", 4096, 2, 80, 4.0, 24.0, 0.03571, "Basic", True),
    ("s-4vcpu-8gb", 8192, 4, 160, 5.0, 48.0, 0.07143, "Basic", True),
    ("s-8vcpu-16gb", 16384, 8, 320, 6.0, 96.0, 0.14286, "Basic", True),
    ("c-2", 4096, 2, 25, 4.0, 42.0, 0.0625, "CPU-Optimized", True),
    ("g-2vcpu-8gb", 8192, 2, 25, 4.0, 63.0, 0.09375, "General Purpose", True),
    ("m-2vcpu-16gb", 16384, 2, 50, 4.0, 84.0, 0.125, "Memory-Optimized", True),
    ("s-32vcpu-192gb", 196608, 32, 3840, 12.0, 1008.0, 1.5, "Basic", False),
    ("gpu-h100x1-80gb", 245760, 20, 720, 15.0, 2522.16, 3.39, "GPU H100", True),
]
# id, name, distribution, slug, kind ("distribution" | "application"), min disk, size GB
_IMAGES = [
    (150000001, "24.04 (LTS) x64", "Ubuntu", "ubuntu-24-04-x64", "distribution", 7, 2.1),
    (150000002, "22.04 (LTS) x64", "Ubuntu", "ubuntu-22-04-x64", "distribution", 7, 2.05),
    (150000003, "12 x64", "Debian", "debian-12-x64", "distribution", 7, 1.4),
    (150000004, "11 x64", "Debian", "debian-11-x64", "distribution", 7, 1.2),
    (150000005, "40 x64", "Fedora", "fedora-40-x64", "distribution", 7, 1.9),
    (150000006, "9 x64", "Rocky Linux", "rockylinux-9-x64", "distribution", 10, 1.6),
    (150000007, "Stream 9 x64", "CentOS", "centos-stream-9-x64", "distribution", 10, 1.7),
    (150000101, "Docker on Ubuntu 22.04", "Ubuntu", "docker-20-04", "application", 25, 3.4),
    (150000102, "WordPress on Ubuntu 22.04", "Ubuntu", "wordpress-20-04", "application", 25, 4.1),
]
_BASE_TIME = "2024-05-02T10:00:00Z"

_HEAD = ('{"id":%d,"name":%s,"memory":%d,"vcpus":%d,"disk":%d,'
         '"disk_info":[{"type":"local","size":{"amount":%d,"unit":"gib"}}],'
         '"locked":%s,"status":"%s","kernel":null,"created_at":"%s","features":%s,'
         '"backup_ids":[],"next_backup_window":%s,"snapshot_ids":%s,"volume_ids":[],'
         '"size_slug":%s,"networks":%s,"tags":%s,"vpc_uuid":"%s",')
_NO_NETWORKS = '{"v4":[],"v6":[]}'


def _is_gpu(droplet: Droplet) -> bool:
    return str(droplet.size.get("slug", "")).startswith("gpu-")


class Droplet:
    """One droplet; its JSON (minus the shared size/image/region part) is cached."""

    __slots__ = ("_head", "action", "backups", "created_at", "disk", "id", "image", "ipv6", "monitoring",
                 "name", "networked", "region", "seq", "size", "snapshot_ids", "status", "tags")

    def __init__(self, droplet_id: int, seq: int, name: str, size: dict[str, Any], image: dict[str, Any],
                 region: dict[str, Any], created_at: str, tags: list[str], *, status: str = "new",
                 ipv6: bool = False, monitoring: bool = False, backups: bool = False) -> None:
        self.id = droplet_id
        self.seq = seq
        self.name = name
        self.size = size
        self.disk: int = size["disk"]
        self.image = image
        self.region = region
        self.created_at = created_at
        self.tags = tags
        self.status = status
        self.ipv6 = ipv6
        self.monitoring = monitoring
        self.backups = backups
        self.networked = status != "new"
        self.action: Action | None = None
        self.snapshot_ids: list[int] = []
        self._head: bytes | None = None

    def touch(self) -> None:
        self._head = None

    def features(self) -> list[str]:
        out = ["private_networking"]
        if self.ipv6:
            out.append("ipv6")
        if self.monitoring:
            out.append("monitoring")
        if self.backups:
            out.append("backups")
        return out

    def head(self, sim: DigitalOceanAPI) -> bytes:
        h = self._head
        if h is None:
            size = self.size
            h = self._head = (_HEAD % (
                self.id, enc(self.name), size["memory"], size["vcpus"], self.disk, self.disk,
                "true" if self.action is not None else "false", self.status, self.created_at,
                enc_list(self.features()),
                '{"start":"2024-06-01T00:00:00Z","end":"2024-06-01T23:00:00Z"}' if self.backups else "null",
                "[" + ",".join(map(str, self.snapshot_ids)) + "]",
                enc(size["slug"]), self.networks(sim), enc_list(self.tags), self.region["vpc_uuid"],
            )).encode("ascii")
        return h

    def networks(self, sim: DigitalOceanAPI) -> str:
        if not self.networked:
            return _NO_NETWORKS
        n = self.seq
        private = f"10.{100 + (n >> 16) % 100}.{(n >> 8) & 255}.{n & 255}"
        v4 = (f'[{{"ip_address":"{private}","netmask":"255.255.0.0","gateway":"nil","type":"private"}},'
              f'{{"ip_address":"{sim.options.public_ip}","netmask":"255.255.255.0",'
              f'"gateway":"{sim.public_gateway}","type":"public"}}]')
        v6 = "[]"
        if self.ipv6:
            ri = self.region["index"]
            v6 = (f'[{{"ip_address":"2001:db8:{ri:x}:{(n >> 16) & 0xffff:x}::{n & 0xffff:x}",'
                  f'"netmask":64,"gateway":"2001:db8:{ri:x}::1","type":"public"}}]')
        return f'{{"v4":{v4},"v6":{v6}}}'


class Action:
    __slots__ = ("completed_at", "id", "region_slug", "resource_id", "started_at", "status", "type")

    def __init__(self, action_id: int, kind: str, resource_id: int | None, region_slug: str | None) -> None:
        self.id = action_id
        self.type = kind
        self.resource_id = resource_id
        self.region_slug = region_slug
        self.status = "in-progress"
        self.started_at = iso_now()
        self.completed_at: str | None = None

    def complete(self, status: str = "completed") -> None:
        self.status = status
        self.completed_at = iso_now()


class DigitalOceanAPI(ProviderAPI):
    """A DigitalOcean account behind ``https://api.digitalocean.com/v2``."""

    name = "digitalocean"
    #: ``droplet_limit``: refuse creates beyond this many droplets (None: no limit, as seeding
    #: 100,000 droplets and then creating more is what benchmarks do).
    option_defaults: ClassVar[dict[str, Any]] = {"droplet_limit": None}
    routes = (
        ("GET", r"/v2/account", "get_account"),
        ("GET", r"/v2/droplets", "list_droplets"),
        ("POST", r"/v2/droplets", "create_droplets"),
        ("GET", rf"/v2/droplets/{_ID}", "get_droplet"),
        ("DELETE", rf"/v2/droplets/{_ID}", "delete_droplet"),
        ("GET", rf"/v2/droplets/{_ID}/actions", "list_droplet_actions"),
        ("POST", rf"/v2/droplets/{_ID}/actions", "post_droplet_action"),
        ("GET", rf"/v2/droplets/{_ID}/actions/{_ID}", "get_droplet_action"),
        ("GET", r"/v2/actions", "list_actions"),
        ("GET", rf"/v2/actions/{_ID}", "get_action"),
        ("GET", r"/v2/images", "list_images"),
        ("GET", r"/v2/images/([^/]+)", "get_image"),
        ("GET", r"/v2/sizes", "list_sizes"),
        ("GET", r"/v2/regions", "list_regions"),
        ("GET", r"/v2/account/keys", "list_keys"),
        ("POST", r"/v2/account/keys", "create_key"),
        ("GET", r"/v2/account/keys/([^/]+)", "get_key"),
        ("PUT", r"/v2/account/keys/([^/]+)", "update_key"),
        ("DELETE", r"/v2/account/keys/([^/]+)", "delete_key"),
        ("GET", r"/v2/tags", "list_tags"),
        ("POST", r"/v2/tags", "create_tag"),
        ("GET", r"/v2/tags/([^/]+)", "get_tag"),
        ("DELETE", r"/v2/tags/([^/]+)", "delete_tag"),
        ("POST", r"/v2/tags/([^/]+)/resources", "tag_resources"),
        ("DELETE", r"/v2/tags/([^/]+)/resources", "untag_resources"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.public_gateway = ".".join([*self.options.public_ip.split(".")[:3], "1"])
        self.droplets: dict[int, Droplet] = {}
        self.actions: dict[int, Action] = {}
        self.keys: dict[int, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, Any]] = {}  # lower-case name → {"name", "droplets": set, "images": set}
        self._droplet_ids = itertools.count(400_000_001)
        self._seq = itertools.count(1)
        self._action_ids = itertools.count(2_000_000_001)
        self._key_ids = itertools.count(41_000_001)
        self._image_ids = itertools.count(160_000_001)
        self._shared: dict[tuple[str, int, str], bytes] = {}
        self._rl_window = 0.0
        self._rl_count = 0
        all_sizes = [s[0] for s in _SIZES if s[8]]
        self.regions: dict[str, dict[str, Any]] = {}
        for index, (slug, name, available) in enumerate(_REGIONS, start=1):
            self.regions[slug] = {
                "name": name, "slug": slug, "features": list(_REGION_FEATURES) if available else [],
                "available": available, "sizes": all_sizes if available else [],
                "index": index, "vpc_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cloudkit-sim/vpc/{slug}")),
            }
        live = [slug for slug, _, available in _REGIONS if available]
        self.sizes: dict[str, dict[str, Any]] = {
            slug: {"slug": slug, "memory": mem, "vcpus": cpus, "disk": disk, "transfer": transfer,
                   "price_monthly": monthly, "price_hourly": hourly, "regions": live if available else [],
                   "available": available, "description": description}
            for slug, mem, cpus, disk, transfer, monthly, hourly, description, available in _SIZES
        }
        self.images: dict[int, dict[str, Any]] = {}
        self.image_kind: dict[int, str] = {}
        for image_id, name, distro, slug, kind, min_disk, gigabytes in _IMAGES:
            self.images[image_id] = {
                "id": image_id, "name": name, "distribution": distro, "slug": slug, "public": True,
                "regions": live, "created_at": _BASE_TIME, "type": "base" if kind == "distribution" else "snapshot",
                "min_disk_size": min_disk, "size_gigabytes": gigabytes, "description": f"{distro} {name}",
                "tags": [], "status": "available", "error_message": "",
            }
            self.image_kind[image_id] = kind
        self.account = {
            "droplet_limit": self.settings["droplet_limit"] or 1_000_000, "floating_ip_limit": 3,
            "email": "sammy@example.com", "name": "Simulated Account",
            "uuid": uuid.uuid5(uuid.NAMESPACE_URL, "cloudkit-sim/account").hex, "email_verified": True,
            "status": "active", "status_message": "", "team": {
                "uuid": uuid.uuid5(uuid.NAMESPACE_URL, "cloudkit-sim/team").hex, "name": "Simulated Team"},
        }

    # -- provider conventions -------------------------------------------------------------------

    def make_token(self) -> str:
        return "dop_v1_" + secrets.token_hex(32)

    def authenticate(self, request: SimRequest, route: Route | None) -> str | SimResponse | None:
        header = request.headers.get("authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        access = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return access if access is not None else self.unauthorized()

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        code = extra.pop("code", None) or _ERROR_IDS.get(status, "error")
        body = {"id": code, "message": message, "request_id": str(uuid.uuid4())}
        return SimResponse(status, dumps(body))

    def unauthorized(self) -> SimResponse:
        return self.error(401, "Unable to authenticate you")

    def forbidden(self) -> SimResponse:
        return self.error(403, "You do not have permission to perform this action.")

    def not_found(self, what: str = "") -> SimResponse:
        return self.error(404, "The resource you were accessing could not be found.")

    def bad_body(self, message: str) -> SimResponse:
        return self.error(400, "error parsing request body")

    def throttled(self, retry_after: float) -> SimResponse:
        resp = self.error(429, "API Rate limit exceeded.")
        reset = int(time.time() + max(1.0, retry_after))
        resp.headers.extend([("ratelimit-limit", "250"), ("ratelimit-remaining", "0"),
                             ("ratelimit-reset", str(reset)), ("retry-after", _secs(retry_after))])
        return resp

    def server_error(self, status: int) -> SimResponse:
        if status == 500:
            return self.error(500, "Unexpected server-side error")
        return self.error(status, "The service is temporarily unavailable, please try again later.")

    def common_headers(self) -> list[tuple[str, str]]:
        now = time.time()
        if now >= self._rl_window:
            self._rl_window = now + 3600
            self._rl_count = 0
        self._rl_count += 1
        return [("ratelimit-limit", "5000"), ("ratelimit-remaining", str(max(0, 5000 - self._rl_count))),
                ("ratelimit-reset", str(int(self._rl_window)))]

    # -- introspection ----------------------------------------------------------------------------

    def node_count(self) -> int:
        with self.lock:
            self.settle()
            return len(self.droplets)

    def node_ids(self) -> list[str]:
        with self.lock:
            return [str(i) for i in self.droplets]

    def node_status(self, node_id: str) -> str | None:
        with self.lock:
            self.settle()
            d = self.droplets.get(_int(node_id))
            return d.status if d else None

    def set_node_status(self, node_id: str, status: str) -> None:
        with self.lock:
            d = self.droplets[_int(node_id)]
            d.status = status
            d.networked = d.networked or status != "new"
            d.touch()
            self.changed()

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` active droplets at once (cheap enough for 100,000)."""
        size = self.sizes[fields.pop("size", "s-1vcpu-1gb")]
        image = self._find_image(fields.pop("image", "ubuntu-24-04-x64"))
        region = self.regions[fields.pop("region", "nyc3")]
        status = fields.pop("status", "active")
        if fields:
            raise TypeError(f"unknown seed field(s): {', '.join(sorted(fields))}")
        if image is None:
            raise ValueError("unknown image")
        tags = [self._ensure_tag(tag)] if tag else []
        created = iso_now()
        ids: list[str] = []
        with self.lock:
            start = len(self.droplets)
            tag_entry = self.tags[tag.lower()] if tag else None
            for i in range(count):
                droplet_id = next(self._droplet_ids)
                d = Droplet(droplet_id, next(self._seq), f"{name_prefix}-{start + i + 1}", size, image, region,
                            created, tags, status=status)
                d.networked = True
                self.droplets[droplet_id] = d
                if tag_entry is not None:
                    tag_entry["droplets"].add(droplet_id)
                ids.append(str(droplet_id))
            self.changed()
        return ids

    # -- rendering --------------------------------------------------------------------------------

    def _shared_part(self, d: Droplet) -> bytes:
        key = (d.size["slug"], d.image["id"], d.region["slug"])
        part = self._shared.get(key)
        if part is None:
            region = {k: v for k, v in d.region.items() if k not in ("index", "vpc_uuid")}
            part = (b'"size":' + dumps(d.size) + b',"image":' + dumps(d.image) + b',"region":'
                    + dumps(region) + b"}")
            self._shared[key] = part
        return part

    def render(self, d: Droplet) -> bytes:
        return d.head(self) + self._shared_part(d)

    def _region_public(self, slug: str | None) -> dict[str, Any] | None:
        if slug is None or slug not in self.regions:
            return None
        return {k: v for k, v in self.regions[slug].items() if k not in ("index", "vpc_uuid")}

    def _action_json(self, a: Action) -> dict[str, Any]:
        return {"id": a.id, "status": a.status, "type": a.type, "started_at": a.started_at,
                "completed_at": a.completed_at, "resource_id": a.resource_id, "resource_type": "droplet",
                "region": self._region_public(a.region_slug), "region_slug": a.region_slug}

    def _page(self, request: SimRequest, key: str, total: int, render: Any) -> SimResponse:
        """A paged list: ``render(start, end)`` returns the items' JSON fragments."""
        page = int_arg(request, "page", 1)
        per_page = int_arg(request, "per_page", 20)
        if page is None or per_page is None or page < 1 or per_page < 1:
            self.fail(400, "page and per_page must be positive integers", code="bad_request")
        per_page = min(per_page, 200)
        pages = max(1, -(-total // per_page))
        start = (page - 1) * per_page
        end = min(total, start + per_page)
        items = render(start, end) if start < end else []
        links: dict[str, str] = {}
        if pages > 1 or page > 1:
            others = [(k, v) for k, vals in request.query.items() if k not in ("page", "per_page") for v in vals]
            base = f"{self.options.base_url}{request.raw_path}?"

            def url(n: int) -> str:
                return base + urlencode([*others, ("page", n), ("per_page", per_page)])

            if page > 1:
                links["first"] = url(1)
                links["prev"] = url(min(page - 1, pages))
            if page < pages:
                links["next"] = url(page + 1)
                links["last"] = url(pages)
        body = b"".join([b'{"', key.encode(), b'":[', b",".join(items), b'],"links":{"pages":',
                         dumps(links), b'},"meta":{"total":', str(total).encode(), b"}}"])
        return SimResponse(200, body)

    def _list_of(self, request: SimRequest, key: str, values: list[Any]) -> SimResponse:
        return self._page(request, key, len(values), lambda s, e: [dumps(v) for v in values[s:e]])

    # -- account ----------------------------------------------------------------------------------

    def get_account(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, {"account": self.account})

    # -- droplets ---------------------------------------------------------------------------------

    def list_droplets(self, request: SimRequest) -> SimResponse:
        tag = request.arg("tag_name")
        name = request.arg("name")
        kind = request.arg("type")
        if tag is not None and (name is not None or kind is not None):
            self.fail(400, "tag_name cannot be combined with name or type", code="bad_request")
        if kind not in (None, "droplets", "gpus"):
            self.fail(400, "type must be 'droplets' or 'gpus'", code="bad_request")
        if kind == "gpus":  # GPU droplets are listed only when asked for
            items: list[Droplet] = self.listing("gpus", lambda: [d for d in self.droplets.values() if _is_gpu(d)])
        elif tag is not None:
            entry = self.tags.get(tag.lower())
            ids = entry["droplets"] if entry is not None and entry["name"] == tag else set()
            items = self.listing(("tag", tag), lambda: [self.droplets[i] for i in sorted(ids)])
        elif name is not None:
            low = name.lower()
            items = self.listing(("name", low), lambda: [d for d in self.droplets.values()
                                                          if d.name.lower() == low])
        else:
            items = self.listing("all", lambda: [d for d in self.droplets.values() if not _is_gpu(d)])

        def render(start: int, end: int) -> list[bytes]:
            return [self.render(d) for d in items[start:end]]

        return self._page(request, "droplets", len(items), render)

    def get_droplet(self, request: SimRequest, droplet_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        return SimResponse(200, b'{"droplet":' + self.render(d) + b"}")

    def delete_droplet(self, request: SimRequest, droplet_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        self._remove(d)
        return self.empty(204)

    def _remove(self, d: Droplet) -> None:
        self.droplets.pop(d.id, None)
        for tag in d.tags:
            entry = self.tags.get(tag.lower())
            if entry is not None:
                entry["droplets"].discard(d.id)
        d.status = "archive"
        self.changed()

    def _droplet(self, droplet_id: str) -> Droplet:
        d = self.found(self.droplets, int(droplet_id), "The resource you were accessing could not be found.")
        return d

    def create_droplets(self, request: SimRequest) -> SimResponse:
        body = request.json()
        if not isinstance(body, dict):
            self.fail(400, "error parsing request body", code="bad_request")
        multi = "names" in body
        if multi and "name" in body:
            self.fail(422, "Specify either name or names, not both.")
        if multi:
            names = body["names"]
            if not isinstance(names, list) or not names or len(names) > 10:
                self.fail(422, "names must be a list of 1 to 10 droplet names.")
        elif "name" in body:
            names = [body["name"]]
        else:
            self.fail(422, "Name is required.")
        for name in names:
            if not isinstance(name, str) or not name or len(name) > 255 or not NAME_RE.match(name):
                self.fail(422, "Name is invalid: only letters, digits, '.' and '-' are allowed "
                               "and it must end with a letter or digit.")
        size_slug = body.get("size")
        if not isinstance(size_slug, str) or not size_slug:
            self.fail(422, "Size is required.")
        size = self.sizes.get(size_slug)
        if size is None or not size["available"]:
            self.fail(422, "You specified an invalid size for Droplet creation.")
        if "image" not in body or body["image"] in (None, ""):
            self.fail(422, "Image is required.")
        image = self._find_image(body["image"])
        if image is None:
            self.fail(422, "You specified an invalid image for Droplet creation.")
        region = self._pick_region(body.get("region"), size)
        for flag in ("backups", "ipv6", "monitoring", "private_networking", "with_droplet_agent",
                     "public_networking"):
            if flag in body and body[flag] is not None and not isinstance(body[flag], bool):
                self.fail(422, f"{flag} must be a boolean.")
        if body.get("public_networking") is False and body.get("ipv6"):
            self.fail(422, "public_networking can only be disabled when ipv6 is disabled.")
        keys = body.get("ssh_keys") or []
        if not isinstance(keys, list):
            self.fail(422, "ssh_keys must be a list of key ids or fingerprints.")
        for ref in keys:
            if isinstance(ref, bool) or not isinstance(ref, (int, str)) or self._find_key(str(ref)) is None:
                self.fail(422, "You specified an invalid SSH key for Droplet creation.")
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) and t and len(t) <= 255 and TAG_RE.match(t)
                                                 for t in tags):
            self.fail(422, "Tags must be names of letters, digits, '_', '-' or ':' (at most 255 characters).")
        user_data = body.get("user_data")
        if user_data is not None and (not isinstance(user_data, str) or len(user_data.encode()) > 65536):
            self.fail(422, "user_data must be text of at most 64 KiB.")
        limit = self.settings["droplet_limit"]
        if limit is not None and len(self.droplets) + len(names) > limit:
            self.fail(422, "creating this/these droplet(s) will exceed your droplet limit")
        canonical = [self._ensure_tag(t) for t in dict.fromkeys(tags)]
        created = iso_now()
        made: list[tuple[Droplet, Action]] = []
        for name in names:
            droplet_id = next(self._droplet_ids)
            d = Droplet(droplet_id, next(self._seq), name, size, image, region, created, list(canonical),
                        ipv6=bool(body.get("ipv6")), monitoring=bool(body.get("monitoring")),
                        backups=bool(body.get("backups")))
            self.droplets[droplet_id] = d
            for t in canonical:
                self.tags[t.lower()]["droplets"].add(droplet_id)
            action = self._new_action("create", d)
            d.action = None  # a droplet being created is "new", not locked
            made.append((d, action))
            self.later(self.options.boot_seconds, functools.partial(self._booted, d, action))
        self.changed()
        links = b'{"actions":[' + b",".join(
            dumps({"id": a.id, "rel": "create", "href": f"{self.options.base_url}/v2/actions/{a.id}"})
            for _, a in made) + b"]}"
        if multi:
            body_bytes = b'{"droplets":[' + b",".join(self.render(d) for d, _ in made) + b'],"links":' + links + b"}"
        else:
            body_bytes = b'{"droplet":' + self.render(made[0][0]) + b',"links":' + links + b"}"
        return SimResponse(202, body_bytes)

    def _booted(self, d: Droplet, action: Action) -> None:
        if d.id not in self.droplets:
            action.complete("errored")
            return
        d.status = "active"
        d.networked = True
        d.touch()
        action.complete()
        self.changed()

    def _pick_region(self, value: Any, size: dict[str, Any]) -> dict[str, Any]:
        if value is None or value == "":
            for region in self.regions.values():
                if region["available"] and size["slug"] in region["sizes"]:
                    return region
            self.fail(422, "No region has this size available.")
        if not isinstance(value, str):
            self.fail(422, "You specified an invalid region for Droplet creation.")
        candidates = [r for slug, r in self.regions.items() if slug == value] or [
            r for slug, r in self.regions.items() if slug.startswith(value) and r["available"]]
        if not candidates:
            self.fail(422, "You specified an invalid region for Droplet creation.")
        region = candidates[0]
        if not region["available"]:
            self.fail(422, "This region is not available for new Droplets.")
        if size["slug"] not in region["sizes"]:
            self.fail(422, "This size is not available in the selected region.")
        return region

    def _find_image(self, ref: Any) -> dict[str, Any] | None:
        if isinstance(ref, bool):
            return None
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return self.images.get(int(ref))
        if isinstance(ref, str):
            for image in self.images.values():
                if image["slug"] == ref:
                    return image
        return None

    # -- actions ----------------------------------------------------------------------------------

    def _new_action(self, kind: str, d: Droplet) -> Action:
        action = Action(next(self._action_ids), kind, d.id, d.region["slug"])
        self.actions[action.id] = action
        d.action = action
        d.touch()
        return action

    def post_droplet_action(self, request: SimRequest, droplet_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            self.fail(422, "An action type is required.")
        kind = body["type"]
        if kind not in _ACTION_TYPES:
            self.fail(422, f"Action type '{kind[:40]}' is not valid.")
        if d.action is not None or d.status == "new":
            self.fail(422, "Droplet already has a pending event.")
        effect = self._plan_action(d, kind, body)
        action = self._new_action(kind, d)

        def finish(d: Droplet = d, action: Action = action) -> None:
            if d.id in self.droplets:
                effect()
                action.complete()
            else:
                action.complete("errored")
            d.action = None
            d.touch()
            self.changed()

        if kind == "rename" or self.options.action_seconds <= 0:
            finish()
        else:
            self.later(self.options.action_seconds, finish)
        return self.json_response(201, {"action": self._action_json(action)})

    def _plan_action(self, d: Droplet, kind: str, body: dict[str, Any]) -> Any:
        """Check an action against the droplet's state; return what it does when it completes."""
        if kind in ("reboot", "power_cycle", "shutdown", "power_off"):
            if d.status != "active":
                self.fail(422, "Droplet is already powered off." if kind in ("shutdown", "power_off")
                          else "Droplet is currently off.")
            target = "off" if kind in ("shutdown", "power_off") else "active"
            return lambda: self._set_status(d, target)
        if kind == "power_on":
            if d.status == "active":
                self.fail(422, "Droplet is already powered on.")
            return lambda: self._set_status(d, "active")
        if kind == "resize":
            slug = body.get("size")
            size = self.sizes.get(slug) if isinstance(slug, str) else None
            if size is None or not size["available"]:
                self.fail(422, "You specified an invalid size for Droplet resize.")
            grow_disk = body.get("disk", False)
            if not isinstance(grow_disk, bool):
                self.fail(422, "disk must be a boolean.")
            if d.status != "off":
                self.fail(422, "Droplet must be powered off before it can be resized.")
            if size["disk"] < d.disk:
                self.fail(422, "This size has a smaller disk than the Droplet's; disks cannot shrink.")

            def resize() -> None:
                d.size = size
                if grow_disk:
                    d.disk = size["disk"]

            return resize
        if kind == "rebuild":
            image = self._find_image(body.get("image"))
            if image is None:
                self.fail(422, "You specified an invalid image for Droplet rebuild.")

            def rebuild() -> None:
                d.image = image
                d.status = "active"

            return rebuild
        if kind == "rename":
            new_name = body.get("name")
            if not isinstance(new_name, str) or not new_name or len(new_name) > 255 or not NAME_RE.match(new_name):
                self.fail(422, "Name is invalid: only letters, digits, '.' and '-' are allowed.")

            def rename() -> None:
                d.name = new_name

            return rename
        if kind == "snapshot":
            name = body.get("name") or f"{d.name}-snapshot"
            return lambda: self._snapshot(d, str(name))
        if kind == "enable_ipv6":
            return lambda: setattr(d, "ipv6", True)
        if kind in ("enable_backups", "disable_backups"):
            return lambda: setattr(d, "backups", kind == "enable_backups")
        return lambda: None  # password_reset

    def _set_status(self, d: Droplet, status: str) -> None:
        d.status = status

    def _snapshot(self, d: Droplet, name: str) -> None:
        image_id = next(self._image_ids)
        self.images[image_id] = {
            "id": image_id, "name": name, "distribution": d.image["distribution"], "slug": None,
            "public": False, "regions": [d.region["slug"]], "created_at": iso_now(), "type": "snapshot",
            "min_disk_size": d.disk, "size_gigabytes": round(d.disk * 0.08, 2), "description": "",
            "tags": [], "status": "available", "error_message": "",
        }
        self.image_kind[image_id] = "private"
        d.snapshot_ids.append(image_id)

    def list_droplet_actions(self, request: SimRequest, droplet_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        actions = [self._action_json(a) for a in self.actions.values() if a.resource_id == d.id]
        return self._list_of(request, "actions", actions)

    def get_droplet_action(self, request: SimRequest, droplet_id: str, action_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        action = self.actions.get(int(action_id))
        if action is None or action.resource_id != d.id:
            self.fail(404, "The resource you were accessing could not be found.")
        return self.json_response(200, {"action": self._action_json(action)})

    def list_actions(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, "actions", [self._action_json(a) for a in self.actions.values()])

    def get_action(self, request: SimRequest, action_id: str) -> SimResponse:
        action = self.found(self.actions, int(action_id), "The resource you were accessing could not be found.")
        return self.json_response(200, {"action": self._action_json(action)})

    # -- catalog ----------------------------------------------------------------------------------

    def list_images(self, request: SimRequest) -> SimResponse:
        kind = request.arg("type")
        private = request.arg("private")
        tag = request.arg("tag_name")
        images = []
        for image_id, image in self.images.items():
            category = self.image_kind[image_id]
            if kind is not None and category != kind:
                continue
            if private is not None and private.lower() == "true" and category != "private":
                continue
            if tag is not None and tag not in image["tags"]:
                continue
            images.append(image)
        return self._list_of(request, "images", images)

    def get_image(self, request: SimRequest, ref: str) -> SimResponse:
        image = self._find_image(ref)
        if image is None:
            self.fail(404, "The resource you were accessing could not be found.")
        return self.json_response(200, {"image": image})

    def list_sizes(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, "sizes", list(self.sizes.values()))

    def list_regions(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, "regions", [self._region_public(s) for s in self.regions])

    # -- SSH keys ---------------------------------------------------------------------------------

    def _find_key(self, ref: str) -> dict[str, Any] | None:
        if ref.isdigit():
            return self.keys.get(int(ref))
        for key in self.keys.values():
            if key["fingerprint"] == ref:
                return key
        return None

    def _key(self, ref: str) -> dict[str, Any]:
        key = self._find_key(ref)
        if key is None:
            self.fail(404, "The resource you were accessing could not be found.")
        return key

    def list_keys(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, "ssh_keys", list(self.keys.values()))

    def create_key(self, request: SimRequest) -> SimResponse:
        body = request.json()
        if not isinstance(body, dict):
            self.fail(400, "error parsing request body", code="bad_request")
        name, public_key = body.get("name"), body.get("public_key")
        if not isinstance(name, str) or not name.strip():
            self.fail(422, "Name is required.")
        if not isinstance(public_key, str):
            self.fail(422, "Public key is required.")
        try:
            parse_public_key(public_key)
            fingerprint = fingerprint_md5(public_key)
        except ValidationError:
            self.fail(422, "Key invalid, key should be of the format `type key [comment]`")
        if any(k["fingerprint"] == fingerprint for k in self.keys.values()):
            self.fail(422, "SSH Key is already in use on your account")
        key_id = next(self._key_ids)
        key: dict[str, Any] = {"id": key_id, "fingerprint": fingerprint, "public_key": public_key.strip(),
                               "name": name}
        self.keys[key_id] = key
        return self.json_response(201, {"ssh_key": key})

    def get_key(self, request: SimRequest, ref: str) -> SimResponse:
        return self.json_response(200, {"ssh_key": self._key(ref)})

    def update_key(self, request: SimRequest, ref: str) -> SimResponse:
        key = self._key(ref)
        body = request.json()
        if not isinstance(body, dict):
            self.fail(400, "error parsing request body", code="bad_request")
        name = body.get("name")
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                self.fail(422, "Name must be a non-empty string.")
            key["name"] = name
        return self.json_response(200, {"ssh_key": key})

    def delete_key(self, request: SimRequest, ref: str) -> SimResponse:
        key = self._key(ref)
        del self.keys[key["id"]]
        return self.empty(204)

    # -- tags -------------------------------------------------------------------------------------

    def _ensure_tag(self, name: str) -> str:
        entry = self.tags.get(name.lower())
        if entry is None:
            entry = self.tags[name.lower()] = {"name": name, "droplets": set(), "images": set(), "last": None}
        return str(entry["name"])

    def _tag(self, name: str) -> dict[str, Any]:
        entry = self.tags.get(name.lower())
        if entry is None or entry["name"] != name:
            self.fail(404, "The resource you were accessing could not be found.")
        return entry

    def _tag_json(self, entry: dict[str, Any]) -> dict[str, Any]:
        base = self.options.base_url
        droplets: dict[str, Any] = {"count": len(entry["droplets"])}
        images: dict[str, Any] = {"count": len(entry["images"])}
        if entry["droplets"]:
            droplets["last_tagged_uri"] = f"{base}/v2/droplets/{max(entry['droplets'])}"
        if entry["images"]:
            images["last_tagged_uri"] = f"{base}/v2/images/{max(entry['images'])}"
        resources: dict[str, Any] = {"count": droplets["count"] + images["count"]}
        if entry["last"]:
            resources["last_tagged_uri"] = entry["last"]
        resources.update({"droplets": droplets, "images": images, "volumes": {"count": 0},
                          "volume_snapshots": {"count": 0}, "databases": {"count": 0}})
        return {"name": entry["name"], "resources": resources}

    def list_tags(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, "tags", [self._tag_json(e) for e in self.tags.values()])

    def create_tag(self, request: SimRequest) -> SimResponse:
        body = request.json()
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name or len(name) > 255 or not TAG_RE.match(name):
            return self.json_response(400, {
                "error": "tag name is invalid",
                "messages": ["name must be 1-255 letters, digits, '_', '-' or ':'"],
                "root_causes": ["invalid tag name"]})
        self._ensure_tag(name)
        return self.json_response(201, {"tag": self._tag_json(self.tags[name.lower()])})

    def get_tag(self, request: SimRequest, name: str) -> SimResponse:
        return self.json_response(200, {"tag": self._tag_json(self._tag(name))})

    def delete_tag(self, request: SimRequest, name: str) -> SimResponse:
        entry = self._tag(name)
        for droplet_id in entry["droplets"]:
            d = self.droplets.get(droplet_id)
            if d is not None:
                d.tags = [t for t in d.tags if t != entry["name"]]
                d.touch()
        for image_id in entry["images"]:
            image = self.images.get(image_id)
            if image is not None:
                image["tags"] = [t for t in image["tags"] if t != entry["name"]]
        del self.tags[name.lower()]
        self.changed()
        return self.empty(204)

    def _resources(self, request: SimRequest) -> list[tuple[str, int]]:
        body = request.json()
        resources = body.get("resources") if isinstance(body, dict) else None
        if not isinstance(resources, list) or not resources:
            self.fail(422, "resources must be a non-empty list.")
        out: list[tuple[str, int]] = []
        for item in resources:
            if not isinstance(item, dict):
                self.fail(422, "each resource needs resource_id and resource_type.")
            rid, rtype = item.get("resource_id"), item.get("resource_type")
            if rtype not in ("droplet", "image", "volume", "volume_snapshot"):
                self.fail(422, "resource_type must be droplet, image, volume or volume_snapshot.")
            if isinstance(rid, bool) or not isinstance(rid, (str, int)) or not str(rid).isdigit():
                self.fail(422, "resource_id must be the resource's id.")
            known = self.droplets if rtype == "droplet" else self.images if rtype == "image" else {}
            if int(rid) not in known:
                self.fail(404, f"{rtype} {rid} could not be found.")
            out.append((str(rtype), int(rid)))
        return out

    def tag_resources(self, request: SimRequest, name: str) -> SimResponse:
        entry = self._tag(name)
        for rtype, rid in self._resources(request):
            if rtype == "droplet":
                d = self.droplets[rid]
                if entry["name"] not in d.tags:
                    d.tags = [*d.tags, entry["name"]]
                    d.touch()
                entry["droplets"].add(rid)
                entry["last"] = f"{self.options.base_url}/v2/droplets/{rid}"
            else:
                image = self.images[rid]
                if entry["name"] not in image["tags"]:
                    image["tags"] = [*image["tags"], entry["name"]]
                entry["images"].add(rid)
                entry["last"] = f"{self.options.base_url}/v2/images/{rid}"
        self.changed()
        return self.empty(204)

    def untag_resources(self, request: SimRequest, name: str) -> SimResponse:
        entry = self._tag(name)
        for rtype, rid in self._resources(request):
            if rtype == "droplet":
                d = self.droplets[rid]
                d.tags = [t for t in d.tags if t != entry["name"]]
                d.touch()
                entry["droplets"].discard(rid)
            else:
                image = self.images[rid]
                image["tags"] = [t for t in image["tags"] if t != entry["name"]]
                entry["images"].discard(rid)
        self.changed()
        return self.empty(204)


_ACTION_TYPES = frozenset({
    "reboot", "power_cycle", "shutdown", "power_off", "power_on", "resize", "rebuild", "rename", "snapshot",
    "password_reset", "enable_ipv6", "enable_backups", "disable_backups",
})
_ERROR_IDS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 422: "unprocessable_entity", 429: "too_many_requests", 500: "server_error",
    502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout",
}


def _int(value: str) -> int:
    return int(value)


def _secs(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")
