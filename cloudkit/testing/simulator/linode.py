"""Simulated Linode API v4 account, per ``shared/api/linode.md`` and the OpenAPI cut.

Behaviour worth knowing:

- paths under ``/v4`` (and ``/v4beta``); Bearer token; ``GET /regions``, ``/linode/types``
  (and their items) answer without a token, as the real API does;
- create answers 200 with the full instance in ``provisioning`` and its ``ipv4`` already
  filled (public: the simulator's ``public_ip``; with ``private_ip: true`` also a
  192.168.128.0/17 address, Linode's private range); after ``boot_seconds`` it is
  ``running`` (``offline`` with ``booted: false``);
- boot/reboot/shutdown/resize answer ``{}`` and pass through ``booting``/``rebooting``/
  ``shutting_down``/``migrating`` for ``action_seconds``; a busy Linode refuses another job;
- labels are unique per account, ``root_pass`` is required with ``image``;
- lists page with ``page``/``page_size`` (25..500, default 100) and ``X-Filter`` on
  instances (``label``, ``tags``, ``id``, ``region``, ``group``, ``ipv4``, ``image``,
  ``type``, ``status``; ``+and``/``+or``, ``+contains``/``+neq``/``+gt``..., ``+order_by``);
- events (``/account/events``) record each job: ``started`` then ``finished``.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from cloudkit.errors import ValidationError
from cloudkit.sshkeys import parse_public_key
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, Route, dumps, enc, enc_list, int_arg, iso_now

__all__ = ["LinodeAPI"]

LABEL_RE = re.compile(r"^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$")
_V = r"/v4(?:beta)?"
_ID = r"(\d+)"

# id, label, class, vcpus, memory MB, disk MB, transfer GB, network_out Mbps, hourly, monthly, backups monthly
_TYPES = [
    ("g6-nanode-1", "Nanode 1GB", "nanode", 1, 1024, 25600, 1000, 1000, 0.0075, 5.0, 2.0),
    ("g6-standard-1", "Linode 2GB", "standard", 1, 2048, 51200, 2000, 2000, 0.018, 12.0, 2.5),
    ("g6-standard-2", "Linode 4GB", "standard", 2, 4096, 81920, 4000, 4000, 0.036, 24.0, 5.0),
    ("g6-standard-4", "Linode 8GB", "standard", 4, 8192, 163840, 5000, 5000, 0.072, 48.0, 10.0),
    ("g6-standard-6", "Linode 16GB", "standard", 6, 16384, 327680, 8000, 6000, 0.144, 96.0, 20.0),
    ("g6-dedicated-2", "Dedicated 4GB", "dedicated", 2, 4096, 81920, 4000, 4000, 0.054, 36.0, 5.0),
    ("g6-dedicated-4", "Dedicated 8GB", "dedicated", 4, 8192, 163840, 5000, 5000, 0.108, 72.0, 10.0),
    ("g7-highmem-1", "Linode 24GB", "highmem", 2, 24576, 20480, 5000, 5000, 0.09, 60.0, 5.0),
]
# id, label, country, extra capabilities
_REGIONS = [
    ("us-east", "Newark, NJ, USA", "us"), ("us-central", "Dallas, TX, USA", "us"),
    ("us-west", "Fremont, CA, USA", "us"), ("us-southeast", "Atlanta, GA, USA", "us"),
    ("us-iad", "Washington, DC, USA", "us"), ("ca-central", "Toronto, ON, CA", "ca"),
    ("eu-west", "London, UK", "gb"), ("eu-central", "Frankfurt, DE", "de"),
    ("ap-south", "Singapore, SG", "sg"), ("ap-northeast", "Tokyo, JP", "jp"),
    ("br-gru", "Sao Paulo, BR", "br"),
]
# id, label, vendor, size MB
_IMAGES = [
    ("linode/debian12", "Debian 12", "Debian", 1300), ("linode/debian11", "Debian 11", "Debian", 1200),
    ("linode/ubuntu24.04", "Ubuntu 24.04 LTS", "Ubuntu", 2500),
    ("linode/ubuntu22.04", "Ubuntu 22.04 LTS", "Ubuntu", 2300),
    ("linode/almalinux9", "AlmaLinux 9", "AlmaLinux", 1800), ("linode/rocky9", "Rocky Linux 9", "Rocky", 1800),
    ("linode/fedora40", "Fedora 40", "Fedora", 1900), ("linode/alpine3.20", "Alpine 3.20", "Alpine", 300),
    ("linode/arch", "Arch Linux", "Arch", 1500),
]
_BASE_TIME = "2024-04-25T12:00:00"
_BUSY = frozenset({"provisioning", "booting", "rebooting", "shutting_down", "rebuilding", "migrating",
                   "busy", "deleting", "cloning", "restoring"})
_INSTANCE_FILTER_FIELDS = frozenset({"id", "label", "group", "region", "tags", "ipv4", "image", "type",
                                     "status", "placement_group.label"})
_WEAK = frozenset({"password", "passw0rd", "12345678", "123456789", "qwerty", "letmein", "changeme"})

_HEAD = ('{"id":%d,"label":%s,"group":%s,"status":"%s","type":%s,"region":%s,"image":%s,'
         '"ipv4":%s,"ipv6":%s,"created":"%s","updated":"%s","tags":%s,"host_uuid":"%s",')
_TAIL = ('"hypervisor":"kvm","watchdog_enabled":true,"has_user_data":false,"capabilities":[],'
         '"lke_cluster_id":null,"placement_group":null,'
         '"alerts":{"cpu":%d,"io":10000,"network_in":10,"network_out":10,"transfer_quota":80},'
         '"backups":{"enabled":false,"available":false,"last_successful":null,'
         '"schedule":{"day":null,"window":null}},'
         '"specs":{"disk":%d,"memory":%d,"vcpus":%d,"gpus":0,"transfer":%d}}')


class Instance:
    """One Linode; its JSON is cached until it changes."""

    __slots__ = ("_json", "created", "group", "id", "image", "ipv4", "ipv6", "label", "region", "seq", "status",
                 "tags", "type", "updated")

    def __init__(self, linode_id: int, seq: int, label: str, type_: dict[str, Any], region: str,
                 image: str | None, ipv4: list[str], ipv6: str | None, created: str, tags: list[str],
                 status: str = "provisioning") -> None:
        self.id = linode_id
        self.seq = seq
        self.label = label
        self.type = type_
        self.region = region
        self.image = image
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.created = created
        self.updated = created
        self.tags = tags
        self.status = status
        self.group = ""
        self._json: bytes | None = None

    def touch(self) -> None:
        self._json = None

    def render(self, tails: dict[str, bytes]) -> bytes:
        data = self._json
        if data is None:
            t = self.type
            data = (_HEAD % (
                self.id, enc(self.label), enc(self.group), self.status, enc(t["id"]), enc(self.region),
                enc(self.image) if self.image is not None else "null", enc_list(self.ipv4),
                enc(self.ipv6) if self.ipv6 is not None else "null", self.created, self.updated,
                enc_list(self.tags), f"{self.seq:040x}",
            )).encode("ascii")
            tail = tails.get(t["id"])
            if tail is None:
                tail = tails[t["id"]] = (_TAIL % (90 * t["vcpus"], t["disk"], t["memory"], t["vcpus"],
                                                  t["transfer"])).encode("ascii")
            data = self._json = data + tail
        return data

    def field(self, name: str) -> Any:
        if name == "type":
            return self.type["id"]
        if name == "placement_group.label":
            return None
        return getattr(self, name)


class LinodeAPI(ProviderAPI):
    """A Linode account behind ``https://api.linode.com/v4``."""

    name = "linode"
    routes = (
        ("GET", rf"{_V}/profile", "get_profile"),
        ("GET", rf"{_V}/account", "get_account"),
        ("GET", rf"{_V}/account/events", "list_events"),
        ("GET", rf"{_V}/account/events/{_ID}", "get_event"),
        ("GET", rf"{_V}/linode/instances", "list_instances"),
        ("POST", rf"{_V}/linode/instances", "create_instance"),
        ("GET", rf"{_V}/linode/instances/{_ID}", "get_instance"),
        ("PUT", rf"{_V}/linode/instances/{_ID}", "update_instance"),
        ("DELETE", rf"{_V}/linode/instances/{_ID}", "delete_instance"),
        ("POST", rf"{_V}/linode/instances/{_ID}/(boot|reboot|shutdown)", "power_action"),
        ("POST", rf"{_V}/linode/instances/{_ID}/rebuild", "rebuild_instance"),
        ("POST", rf"{_V}/linode/instances/{_ID}/resize", "resize_instance"),
        ("GET", rf"{_V}/linode/instances/{_ID}/ips", "get_ips"),
        ("GET", rf"{_V}/linode/types", "list_types", True),
        ("GET", rf"{_V}/linode/types/([^/]+)", "get_type", True),
        ("GET", rf"{_V}/images", "list_images", True),
        ("GET", rf"{_V}/images/([^/]+(?:/[^/]+)?)", "get_image", True),
        ("GET", rf"{_V}/regions", "list_regions", True),
        ("GET", rf"{_V}/regions/([^/]+)", "get_region", True),
        ("GET", rf"{_V}/profile/sshkeys", "list_keys"),
        ("POST", rf"{_V}/profile/sshkeys", "create_key"),
        ("GET", rf"{_V}/profile/sshkeys/{_ID}", "get_key"),
        ("PUT", rf"{_V}/profile/sshkeys/{_ID}", "update_key"),
        ("DELETE", rf"{_V}/profile/sshkeys/{_ID}", "delete_key"),
        ("GET", rf"{_V}/tags", "list_tags"),
        ("POST", rf"{_V}/tags", "create_tag"),
        ("GET", rf"{_V}/tags/([^/]+)", "get_tag"),
        ("DELETE", rf"{_V}/tags/([^/]+)", "delete_tag"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instances: dict[int, Instance] = {}
        self.labels: dict[str, int] = {}
        self.tags: dict[str, set[int]] = {}
        self.keys: dict[int, dict[str, Any]] = {}
        self.events: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(60_000_001)
        self._seq = itertools.count(1)
        self._key_ids = itertools.count(700_001)
        self._event_ids = itertools.count(900_000_001)
        self._tails: dict[str, bytes] = {}
        self._rl_window = 0.0
        self._rl_count = 0
        self.types: dict[str, dict[str, Any]] = {}
        for tid, label, klass, vcpus, mem, disk, transfer, net, hourly, monthly, backups in _TYPES:
            self.types[tid] = {
                "id": tid, "label": label, "class": klass, "vcpus": vcpus, "memory": mem, "disk": disk,
                "transfer": transfer, "network_out": net, "gpus": 0, "successor": None,
                "price": {"hourly": hourly, "monthly": monthly},
                "region_prices": [{"id": "br-gru", "hourly": round(hourly * 1.4, 4),
                                   "monthly": round(monthly * 1.4, 2)}],
                "addons": {"backups": {"price": {"hourly": round(backups / 730, 4), "monthly": backups},
                                       "region_prices": []}},
            }
        self.regions: dict[str, dict[str, Any]] = {
            rid: {"id": rid, "label": label, "country": country,
                  "capabilities": ["Linodes", "Block Storage", "Cloud Firewall", "Metadata", "Placement Groups"],
                  "status": "ok", "site_type": "core",
                  "resolvers": {"ipv4": "192.0.2.10,192.0.2.11", "ipv6": "2001:db8::10,2001:db8::11"},
                  "placement_group_limits": {"maximum_linodes_per_pg": 5, "maximum_pgs_per_customer": 100}}
            for rid, label, country in _REGIONS
        }
        self.region_index = {rid: i for i, rid in enumerate(self.regions, start=1)}
        self.images: dict[str, dict[str, Any]] = {
            iid: {"id": iid, "label": label, "description": f"{label} base image", "created": _BASE_TIME,
                  "updated": _BASE_TIME, "created_by": "linode", "vendor": vendor, "is_public": True,
                  "deprecated": False, "size": size, "total_size": size, "status": "available", "type": "manual",
                  "capabilities": ["cloud-init"],
                  "tags": [], "eol": "2029-06-30T04:00:00", "expiry": None, "regions": []}
            for iid, label, vendor, size in _IMAGES
        }
        self.profile = {
            "uid": 4242, "username": "simuser", "email": "simuser@example.com", "timezone": "UTC",
            "email_notifications": True, "restricted": False, "two_factor_auth": False,
            "ip_whitelist_enabled": False, "lish_auth_method": "keys_only", "authorized_keys": None,
            "authentication_type": "password", "verified_phone_number": None,
            "referrals": {"code": "0" * 40, "url": "https://www.linode.com/?r=" + "0" * 40, "total": 0,
                          "completed": 0, "pending": 0, "credit": 0},
        }
        self.account = {
            "email": "simuser@example.com", "first_name": "Sim", "last_name": "User", "company": "",
            "address_1": "1 Example Street", "address_2": "", "city": "Philadelphia", "state": "PA",
            "zip": "19106", "country": "US", "phone": "", "tax_id": "", "balance": 0, "balance_uninvoiced": 0,
            "active_since": _BASE_TIME, "capabilities": ["Linodes", "Block Storage", "Cloud Firewall"],
            "credit_card": {"last_four": "1111", "expiry": "12/2030"}, "active_promotions": [],
            "billing_source": "akamai", "euuid": "E1AF5EEC-526F-487D-B317EBEB34C87D71",
        }

    # -- provider conventions -------------------------------------------------------------------

    def authenticate(self, request: SimRequest, route: Route | None) -> str | SimResponse | None:
        header = request.headers.get("authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        access = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return access if access is not None else self.unauthorized()

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        entry: dict[str, str] = {"reason": message}
        if extra.get("field"):
            entry["field"] = str(extra["field"])
        return SimResponse(status, dumps({"errors": [entry]}))

    def unauthorized(self) -> SimResponse:
        return self.error(401, "Invalid Token")

    def forbidden(self) -> SimResponse:
        return self.error(403, "Unauthorized")

    def not_found(self, what: str = "") -> SimResponse:
        return self.error(404, "Not found")

    def throttled(self, retry_after: float) -> SimResponse:
        resp = self.error(429, "Too many requests")
        reset = int(time.time() + max(1.0, retry_after))
        resp.headers.extend([("X-RateLimit-Limit", "800"), ("X-RateLimit-Remaining", "0"),
                             ("X-RateLimit-Reset", str(reset)),
                             ("Retry-After", str(max(1, round(retry_after))) if retry_after >= 1
                              else f"{retry_after:g}")])
        return resp

    def server_error(self, status: int) -> SimResponse:
        return self.error(status, "Internal server error" if status == 500 else "Service temporarily unavailable")

    def common_headers(self) -> list[tuple[str, str]]:
        now = time.time()
        if now >= self._rl_window:
            self._rl_window = now + 120
            self._rl_count = 0
        self._rl_count += 1
        return [("X-OAuth-Scopes", "*"), ("X-RateLimit-Limit", "800"),
                ("X-RateLimit-Remaining", str(max(0, 800 - self._rl_count))),
                ("X-RateLimit-Reset", str(int(self._rl_window)))]

    # -- introspection ----------------------------------------------------------------------------

    def node_count(self) -> int:
        with self.lock:
            self.settle()
            return len(self.instances)

    def node_ids(self) -> list[str]:
        with self.lock:
            return [str(i) for i in self.instances]

    def node_status(self, node_id: str) -> str | None:
        with self.lock:
            self.settle()
            inst = self.instances.get(int(node_id))
            return inst.status if inst else None

    def set_node_status(self, node_id: str, status: str) -> None:
        with self.lock:
            inst = self.instances[int(node_id)]
            inst.status = status
            inst.touch()
            self.changed()

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` running Linodes at once (cheap enough for 100,000)."""
        type_ = self.types[fields.pop("type", fields.pop("size", "g6-standard-1"))]
        region = fields.pop("region", "us-east")
        image = fields.pop("image", "linode/debian12")
        status = fields.pop("status", "running")
        if fields:
            raise TypeError(f"unknown seed field(s): {', '.join(sorted(fields))}")
        if region not in self.regions or image not in self.images:
            raise ValueError("unknown region or image")
        if tag is not None:
            self._check_tag(tag)
        tags = [tag] if tag else []
        created = iso_now(with_z=False)
        public = [self.options.public_ip]
        ids: list[str] = []
        with self.lock:
            tag_set = self.tags.setdefault(tag, set()) if tag else None
            start = len(self.instances)
            for i in range(count):
                linode_id = next(self._ids)
                label = f"{name_prefix}-{start + i + 1}"
                while label in self.labels:
                    label = f"{label}x"
                seq = next(self._seq)
                inst = Instance(linode_id, seq, label, type_, region, image, public, self._ipv6(region, seq),
                                created, tags, status)
                self.instances[linode_id] = inst
                self.labels[label] = linode_id
                if tag_set is not None:
                    tag_set.add(linode_id)
                ids.append(str(linode_id))
            self.changed()
        return ids

    # -- helpers ----------------------------------------------------------------------------------

    def _ipv6(self, region: str, seq: int) -> str:
        ri = self.region_index.get(region, 0)
        return f"2001:db8:{ri:x}:{(seq >> 16) & 0xffff:x}::{seq & 0xffff:x}/128"

    def _private_ip(self, seq: int) -> str:
        return f"192.168.{128 + (seq >> 8) % 128}.{seq & 255}"

    def _instance(self, linode_id: str) -> Instance:
        inst = self.found(self.instances, int(linode_id), "Not found")
        return inst

    def _body(self, request: SimRequest, required: bool = True) -> dict[str, Any]:
        body = request.json()
        if body is None and not required:
            return {}
        if not isinstance(body, dict):
            self.fail(400, "Request body must be a JSON object")
        return body

    def _page(self, request: SimRequest, total: int, render: Callable[[int, int], list[bytes]]) -> SimResponse:
        page = int_arg(request, "page", 1)
        size = int_arg(request, "page_size", 100)
        if page is None or page < 1:
            self.fail(400, "page must be a positive integer", field="page")
        if size is None or not 25 <= size <= 500:
            self.fail(400, "Must be 25-500", field="page_size")
        pages = max(1, -(-total // size))
        start = (page - 1) * size
        end = min(total, start + size)
        items = render(start, end) if start < end else []
        body = b"".join([b'{"data":[', b",".join(items), b'],"page":', str(page).encode(), b',"pages":',
                         str(pages).encode(), b',"results":', str(total).encode(), b"}"])
        return SimResponse(200, body)

    def _list_of(self, request: SimRequest, values: list[Any]) -> SimResponse:
        return self._page(request, len(values), lambda s, e: [dumps(v) for v in values[s:e]])

    def _event(self, action: str, inst: Instance, *, done: bool = False) -> dict[str, Any]:
        event_id = next(self._event_ids)
        event: dict[str, Any] = {
            "id": event_id, "action": action, "created": iso_now(with_z=False), "duration": 0,
            "entity": {"id": inst.id, "label": inst.label, "type": "linode",
                       "url": f"/v4/linode/instances/{inst.id}"},
            "message": "", "percent_complete": 100 if done else 0, "rate": None,
            "read": False, "seen": False, "status": "finished" if done else "started",
            "time_remaining": None, "username": self.profile["username"],
        }
        self.events[event_id] = event
        return event

    def _job(self, inst: Instance, action: str, transient: str, final: str, seconds: float,
             effect: Callable[[], None] | None = None) -> None:
        """Put the Linode in ``transient`` now and in ``final`` after ``seconds``."""
        event = self._event(action, inst)
        inst.status = transient
        inst.touch()
        started = time.monotonic()

        def finish() -> None:
            event["duration"] = round(time.monotonic() - started, 3)
            event["percent_complete"] = 100
            if inst.id not in self.instances:
                event["status"] = "failed"
                return
            if effect is not None:
                effect()
            inst.status = final
            inst.updated = iso_now(with_z=False)
            inst.touch()
            event["status"] = "finished"
            self.changed()

        if seconds <= 0 and transient != "provisioning":
            finish()
        else:
            self.later(seconds, finish)
        self.changed()

    def _check_label(self, label: Any, current: int | None = None) -> str:
        if not isinstance(label, str) or not 3 <= len(label) <= 64:
            self.fail(400, "Length must be 3-64 characters", field="label")
        if not LABEL_RE.match(label):
            self.fail(400, "Label must begin with a letter and contain only letters, digits, '-', '_' and "
                           "'.', without two of '-', '_' or '.' in a row", field="label")
        owner = self.labels.get(label)
        if owner is not None and owner != current:
            self.fail(400, "Label must be unique among your Linodes", field="label")
        return label

    def _check_tag(self, tag: Any) -> str:
        if not isinstance(tag, str) or not 3 <= len(tag) <= 50:
            self.fail(400, "Length must be 3-50 characters", field="tags")
        return tag

    def _check_tags(self, tags: Any) -> list[str]:
        if tags is None:
            return []
        if not isinstance(tags, list):
            self.fail(400, "tags must be a list of strings", field="tags")
        return list(dict.fromkeys(self._check_tag(t) for t in tags))

    def _check_password(self, password: Any) -> str:
        if not isinstance(password, str) or not 7 <= len(password) <= 128:
            self.fail(400, "Length must be 7-128 characters", field="root_pass")
        classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^a-zA-Z\d]"))
        if password.lower() in _WEAK or classes < 2 or (classes < 3 and len(password) < 12):
            self.fail(400, "Password does not meet strength requirement", field="root_pass")
        return password

    def _check_keys(self, keys: Any) -> list[str]:
        if keys is None:
            return []
        if not isinstance(keys, list):
            self.fail(400, "authorized_keys must be a list of public keys", field="authorized_keys")
        for key in keys:
            try:
                parse_public_key(key if isinstance(key, str) else "")
            except ValidationError:
                self.fail(400, "Invalid SSH key", field="authorized_keys")
        return list(keys)

    def _set_tags(self, inst: Instance, tags: list[str]) -> None:
        for old in inst.tags:
            if old not in tags and old in self.tags:
                self.tags[old].discard(inst.id)
        for new in tags:
            self.tags.setdefault(new, set()).add(inst.id)
        inst.tags = tags
        inst.touch()

    # -- profile / account ------------------------------------------------------------------------

    def get_profile(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, self.profile)

    def get_account(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, self.account)

    # -- instances --------------------------------------------------------------------------------

    def list_instances(self, request: SimRequest) -> SimResponse:
        raw = request.headers.get("x-filter")
        if raw:
            try:
                flt = json.loads(raw)
            except ValueError:
                self.fail(400, "Invalid JSON in X-Filter header")
            if not isinstance(flt, dict):
                self.fail(400, "X-Filter must be a JSON object")
            order_by = flt.pop("+order_by", None)
            order = flt.pop("+order", "asc")
            _check_filter_fields(self, flt)
            if order_by is not None and order_by not in _INSTANCE_FILTER_FIELDS:
                self.fail(400, f"Cannot order by {order_by}")
            if order not in ("asc", "desc"):
                self.fail(400, "+order must be 'asc' or 'desc'")
            key = ("filter", json.dumps(flt, sort_keys=True), order_by, order)

            def build() -> list[Instance]:
                items = [i for i in self.instances.values() if _matches(flt, i.field)]
                if order_by is not None:
                    items.sort(key=lambda i: _sort_key(i.field(order_by)), reverse=order == "desc")
                elif order == "desc":
                    items.reverse()
                return items

            items = self.listing(key, build)
        else:
            items = self.listing("all", lambda: list(self.instances.values()))
        tails = self._tails
        return self._page(request, len(items), lambda s, e: [i.render(tails) for i in items[s:e]])

    def get_instance(self, request: SimRequest, linode_id: str) -> SimResponse:
        return SimResponse(200, self._instance(linode_id).render(self._tails))

    def create_instance(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        type_id, region = body.get("type"), body.get("region")
        errors: list[dict[str, str]] = []
        if not isinstance(type_id, str) or type_id not in self.types:
            errors.append({"field": "type", "reason": "A valid plan type by that ID was not found"})
        if not isinstance(region, str) or region not in self.regions:
            errors.append({"field": "region", "reason": "region is not valid"})
        if errors:
            raise _errors(errors)
        image = body.get("image")
        if image is not None and (not isinstance(image, str) or image not in self.images):
            self.fail(400, "image is not valid", field="image")
        if image is not None:
            if "root_pass" not in body:
                self.fail(400, "root_pass is required when deploying from an image", field="root_pass")
            self._check_password(body["root_pass"])
        elif "root_pass" in body:
            self._check_password(body["root_pass"])
        self._check_keys(body.get("authorized_keys"))
        users = body.get("authorized_users")
        if users is not None and (not isinstance(users, list) or any(u != self.profile["username"] for u in users)):
            self.fail(400, "Username not found", field="authorized_users")
        seq = next(self._seq)
        linode_id = next(self._ids)
        label = body.get("label")
        label = self._check_label(label) if label is not None else self._free_label(linode_id)
        tags = self._check_tags(body.get("tags"))
        booted = body.get("booted", image is not None)
        if not isinstance(booted, bool):
            self.fail(400, "booted must be a boolean", field="booted")
        private = body.get("private_ip", False)
        if not isinstance(private, bool):
            self.fail(400, "private_ip must be a boolean", field="private_ip")
        group = body.get("group", "")
        ipv4 = [self.options.public_ip] + ([self._private_ip(seq)] if private else [])
        inst = Instance(linode_id, seq, label, self.types[str(type_id)], str(region), image, ipv4,
                        self._ipv6(str(region), seq), iso_now(with_z=False), [], "provisioning")
        inst.group = group if isinstance(group, str) else ""
        self.instances[linode_id] = inst
        self.labels[label] = linode_id
        self._set_tags(inst, tags)
        self._job(inst, "linode_create", "provisioning", "running" if booted else "offline",
                  self.options.boot_seconds)
        return SimResponse(200, inst.render(self._tails))

    def _free_label(self, linode_id: int) -> str:
        label = f"linode{linode_id}"
        while label in self.labels:
            label += "a"
        return label

    def update_instance(self, request: SimRequest, linode_id: str) -> SimResponse:
        inst = self._instance(linode_id)
        body = self._body(request)
        if "label" in body:
            label = self._check_label(body["label"], current=inst.id)
            if label != inst.label:
                del self.labels[inst.label]
                self.labels[label] = inst.id
                inst.label = label
        if "tags" in body:
            self._set_tags(inst, self._check_tags(body["tags"]))
        if "group" in body:
            if not isinstance(body["group"], str):
                self.fail(400, "group must be a string", field="group")
            inst.group = body["group"]
        inst.updated = iso_now(with_z=False)
        inst.touch()
        self.changed()
        self._event("linode_update", inst, done=True)
        return SimResponse(200, inst.render(self._tails))

    def delete_instance(self, request: SimRequest, linode_id: str) -> SimResponse:
        inst = self._instance(linode_id)
        del self.instances[inst.id]
        self.labels.pop(inst.label, None)
        for tag in inst.tags:
            self.tags.get(tag, set()).discard(inst.id)
        self._event("linode_delete", inst, done=True)
        self.changed()
        return self.json_response(200, {})

    def power_action(self, request: SimRequest, linode_id: str, action: str) -> SimResponse:
        inst = self._instance(linode_id)
        body = self._body(request, required=False)
        config = body.get("config_id")
        if config is not None and not isinstance(config, int):
            self.fail(400, "config_id must be an integer", field="config_id")
        if inst.status in _BUSY:
            self.fail(400, f"Linode {inst.id} is busy.")
        seconds = self.options.action_seconds
        if action == "boot":
            if inst.status == "running":
                self.fail(400, f"Linode {inst.id} already booted.")
            self._job(inst, "linode_boot", "booting", "running", seconds)
        elif action == "reboot":
            self._job(inst, "linode_reboot", "rebooting" if inst.status == "running" else "booting",
                      "running", seconds)
        else:
            if inst.status != "running":
                self.fail(400, f"Linode {inst.id} is not running.")
            self._job(inst, "linode_shutdown", "shutting_down", "offline", seconds)
        return self.json_response(200, {})

    def rebuild_instance(self, request: SimRequest, linode_id: str) -> SimResponse:
        inst = self._instance(linode_id)
        body = self._body(request)
        image = body.get("image")
        if not isinstance(image, str) or image not in self.images:
            self.fail(400, "image is not valid", field="image")
        if "root_pass" not in body:
            self.fail(400, "root_pass is required", field="root_pass")
        self._check_password(body["root_pass"])
        self._check_keys(body.get("authorized_keys"))
        new_type = body.get("type")
        if new_type is not None and new_type not in self.types:
            self.fail(400, "A valid plan type by that ID was not found", field="type")
        if inst.status in _BUSY:
            self.fail(400, f"Linode {inst.id} is busy.")
        booted = body.get("booted", True)

        def effect() -> None:
            inst.image = image
            if new_type is not None:
                inst.type = self.types[new_type]

        self._job(inst, "linode_rebuild", "rebuilding", "running" if booted else "offline",
                  self.options.action_seconds, effect)
        return SimResponse(200, inst.render(self._tails))

    def resize_instance(self, request: SimRequest, linode_id: str) -> SimResponse:
        inst = self._instance(linode_id)
        body = self._body(request)
        new_type = body.get("type")
        if not isinstance(new_type, str) or new_type not in self.types:
            self.fail(400, "A valid plan type by that ID was not found", field="type")
        if new_type == inst.type["id"]:
            self.fail(400, "Linode is already running this plan.", field="type")
        migration = body.get("migration_type", "cold")
        if migration not in ("cold", "warm"):
            self.fail(400, "migration_type must be 'cold' or 'warm'", field="migration_type")
        if inst.status in _BUSY:
            self.fail(400, f"Linode {inst.id} is busy.")
        if self.types[new_type]["disk"] < inst.type["disk"] and body.get("allow_auto_disk_resize") is False:
            self.fail(400, "The current disk size of your Linode is too large for the new plan.")
        final = inst.status
        new = self.types[new_type]

        def effect() -> None:
            inst.type = new

        self._job(inst, "linode_resize", "migrating", final, self.options.action_seconds, effect)
        return self.json_response(200, {})

    def get_ips(self, request: SimRequest, linode_id: str) -> SimResponse:
        inst = self._instance(linode_id)

        def addr(address: str, public: bool) -> dict[str, Any]:
            gateway = ".".join([*address.split(".")[:3], "1"]) if public else None
            return {"address": address, "gateway": gateway,
                    "subnet_mask": "255.255.255.0" if public else "255.255.128.0", "prefix": 24 if public else 17,
                    "type": "ipv4", "public": public, "rdns": None, "linode_id": inst.id, "region": inst.region}

        publics = [a for a in inst.ipv4 if not a.startswith("192.168.")]
        privates = [a for a in inst.ipv4 if a.startswith("192.168.")]
        slaac = (inst.ipv6 or "").split("/")[0]
        v6 = {"address": slaac, "gateway": "fe80::1", "subnet_mask": "ffff:ffff:ffff:ffff::", "prefix": 64,
              "type": "ipv6", "public": True, "rdns": None, "linode_id": inst.id, "region": inst.region}
        link_local = {**v6, "address": f"fe80::{inst.seq & 0xffff:x}", "public": False}
        return self.json_response(200, {
            "ipv4": {"public": [addr(a, True) for a in publics], "private": [addr(a, False) for a in privates],
                     "shared": [], "reserved": [], "vpc": []},
            "ipv6": {"slaac": v6, "link_local": link_local, "global": []},
        })

    # -- catalog ----------------------------------------------------------------------------------

    def list_types(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, list(self.types.values()))

    def get_type(self, request: SimRequest, type_id: str) -> SimResponse:
        t = self.found(self.types, type_id, "Not found")
        return self.json_response(200, t)

    def list_images(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, list(self.images.values()))

    def get_image(self, request: SimRequest, image_id: str) -> SimResponse:
        image = self.found(self.images, image_id, "Not found")
        return self.json_response(200, image)

    def list_regions(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, list(self.regions.values()))

    def get_region(self, request: SimRequest, region_id: str) -> SimResponse:
        region = self.found(self.regions, region_id, "Not found")
        return self.json_response(200, region)

    # -- SSH keys ---------------------------------------------------------------------------------

    def _key(self, key_id: str) -> dict[str, Any]:
        key = self.found(self.keys, int(key_id), "Not found")
        return key

    def list_keys(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, list(self.keys.values()))

    def create_key(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        label, text = body.get("label", ""), body.get("ssh_key")
        if not isinstance(label, str) or len(label) > 64:
            self.fail(400, "Length must be 0-64 characters", field="label")
        try:
            parse_public_key(text if isinstance(text, str) else "")
        except ValidationError:
            self.fail(400, "Invalid SSH key", field="ssh_key")
        key_id = next(self._key_ids)
        key: dict[str, Any] = {"id": key_id, "label": label, "ssh_key": str(text).strip(),
                               "created": iso_now(with_z=False)}
        self.keys[key_id] = key
        return self.json_response(200, key)

    def get_key(self, request: SimRequest, key_id: str) -> SimResponse:
        return self.json_response(200, self._key(key_id))

    def update_key(self, request: SimRequest, key_id: str) -> SimResponse:
        key = self._key(key_id)
        body = self._body(request)
        label = body.get("label")
        if label is not None:
            if not isinstance(label, str) or len(label) > 64:
                self.fail(400, "Length must be 0-64 characters", field="label")
            key["label"] = label
        return self.json_response(200, key)

    def delete_key(self, request: SimRequest, key_id: str) -> SimResponse:
        key = self._key(key_id)
        del self.keys[key["id"]]
        return self.json_response(200, {})

    # -- tags -------------------------------------------------------------------------------------

    def list_tags(self, request: SimRequest) -> SimResponse:
        return self._list_of(request, [{"label": label} for label in self.tags])

    def create_tag(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        label = body.get("label")
        if not isinstance(label, str) or not 3 <= len(label) <= 50:
            self.fail(400, "Length must be 3-50 characters", field="label")
        linodes = body.get("linodes") or []
        if not isinstance(linodes, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in linodes):
            self.fail(400, "linodes must be a list of Linode ids", field="linodes")
        for linode_id in linodes:
            if linode_id not in self.instances:
                self.fail(400, f"Linode {linode_id} not found", field="linodes")
        self.tags.setdefault(label, set())
        for linode_id in linodes:
            inst = self.instances[linode_id]
            if label not in inst.tags:
                self._set_tags(inst, [*inst.tags, label])
        self.changed()
        return self.json_response(200, {"label": label})

    def get_tag(self, request: SimRequest, label: str) -> SimResponse:
        ids = self.found(self.tags, label, "Not found")
        items = [self.instances[i] for i in sorted(ids) if i in self.instances]
        tails = self._tails
        return self._page(request, len(items), lambda s, e: [
            b'{"type":"linode","data":' + i.render(tails) + b"}" for i in items[s:e]])

    def delete_tag(self, request: SimRequest, label: str) -> SimResponse:
        ids = self.found(self.tags, label, "Not found")
        for linode_id in list(ids):
            inst = self.instances.get(linode_id)
            if inst is not None:
                inst.tags = [t for t in inst.tags if t != label]
                inst.touch()
        del self.tags[label]
        self.changed()
        return self.json_response(200, {})

    # -- events -----------------------------------------------------------------------------------

    def list_events(self, request: SimRequest) -> SimResponse:
        events = sorted(self.events.values(), key=lambda e: e["id"], reverse=True)
        raw = request.headers.get("x-filter")
        if raw:
            try:
                flt = json.loads(raw)
            except ValueError:
                self.fail(400, "Invalid JSON in X-Filter header")
            if not isinstance(flt, dict):
                self.fail(400, "X-Filter must be a JSON object")
            order_by = flt.pop("+order_by", None)
            order = flt.pop("+order", "desc")
            events = [e for e in events if _matches(flt, _getter(e))]
            if order_by is not None:
                events.sort(key=lambda e: _sort_key(_dotted(e, order_by)), reverse=order == "desc")
        return self._list_of(request, events)

    def get_event(self, request: SimRequest, event_id: str) -> SimResponse:
        event = self.found(self.events, int(event_id), "Not found")
        return self.json_response(200, event)


# -- X-Filter ---------------------------------------------------------------------------------------


def _errors(errors: list[dict[str, str]]) -> Exception:
    from cloudkit.testing.simulator.base import ApiError

    return ApiError(SimResponse(400, dumps({"errors": errors})))


def _check_filter_fields(api: LinodeAPI, flt: Any) -> None:
    if isinstance(flt, dict):
        for key, value in flt.items():
            if key in ("+and", "+or"):
                if not isinstance(value, list):
                    api.fail(400, f"{key} must be a list")
                for item in value:
                    _check_filter_fields(api, item)
            elif key.startswith("+"):
                api.fail(400, f"Unknown filter operator {key}")
            elif key not in _INSTANCE_FILTER_FIELDS:
                api.fail(400, f"Cannot filter on {key}")
    else:
        api.fail(400, "filter must be an object")


def _dotted(obj: Any, name: str) -> Any:
    for part in name.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _getter(obj: dict[str, Any]) -> Callable[[str], Any]:
    return lambda name: _dotted(obj, name)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def _compare(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        return all(_operator(actual, op, arg) for op, arg in wanted.items())
    if isinstance(actual, list):
        return wanted in actual
    return bool(actual == wanted)


def _operator(actual: Any, op: str, arg: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    if op == "+contains":
        return any(isinstance(v, str) and str(arg).lower() in v.lower() for v in values)
    if op == "+neq":
        return arg not in values
    if op in ("+gt", "+gte", "+lt", "+lte"):
        try:
            a, b = float(actual), float(arg)
        except (TypeError, ValueError):
            return False
        return {"+gt": a > b, "+gte": a >= b, "+lt": a < b, "+lte": a <= b}[op]
    return False


def _matches(flt: dict[str, Any], get: Callable[[str], Any]) -> bool:
    for key, value in flt.items():
        if key == "+and":
            if not all(_matches(item, get) for item in value):
                return False
        elif key == "+or":
            if not any(_matches(item, get) for item in value):
                return False
        elif key.startswith("+"):
            continue
        elif not _compare(get(key), value):
            return False
    return True

