"""The simulated Linode account: routes, conventions, instances and the catalog."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar

from cloudkit.errors import ValidationError
from cloudkit.sshkeys import parse_public_key
from cloudkit.testing.simulator import jsonfilter
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ApiError, RateLimit, dumps, iso_now, seed_options
from cloudkit.testing.simulator.linode.catalog import (
    Instance,
    make_account,
    make_images,
    make_profile,
    make_regions,
    make_types,
)
from cloudkit.testing.simulator.linode.resources import KeysTagsEvents
from cloudkit.testing.simulator.linode.storage import STORAGE_ROUTES, Storage

__all__ = ["LinodeAPI"]

LABEL_RE = re.compile(r"^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$")
_V = r"/v4(?:beta)?"
_ID = r"(\d+)"
_BUSY = frozenset({"provisioning", "booting", "rebooting", "shutting_down", "rebuilding", "migrating",
                   "busy", "deleting", "cloning", "restoring"})
_INSTANCE_FILTER_FIELDS = frozenset({"id", "label", "group", "region", "tags", "ipv4", "image", "type",
                                     "status", "placement_group.label"})
_WEAK = frozenset({"password", "passw0rd", "12345678", "123456789", "qwerty", "letmein", "changeme"})


class LinodeAPI(Storage, KeysTagsEvents):
    """A Linode account behind ``https://api.linode.com/v4``."""

    name = "linode"
    auth = "bearer"
    messages: ClassVar[dict[int, str]] = {401: "Invalid Token", 403: "Unauthorized",
                                          503: "Service temporarily unavailable"}
    rate_limit = RateLimit(800, 120, ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"))
    extra_headers = (("X-OAuth-Scopes", "*"),)
    retry_after_style = "whole"
    node_table = "instances"
    node_id_type = int

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
        ("GET", rf"{_V}/networking/ips", "list_ips"),
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
        *STORAGE_ROUTES,
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
        self.types = make_types()
        self.regions = make_regions()
        self.region_index = {rid: i for i, rid in enumerate(self.regions, start=1)}
        self.images = make_images()
        self.profile = make_profile()
        self.account = make_account()
        self._storage_init()

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        entry: dict[str, str] = {"reason": message}
        if extra.get("field"):
            entry["field"] = str(extra["field"])
        return SimResponse(status, dumps({"errors": [entry]}))

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` running Linodes at once (cheap enough for 100,000)."""
        opts = seed_options(fields, {"type": "g6-standard-1", "region": "us-east", "image": "linode/debian12",
                                     "status": "running"}, {"size": "type"})
        type_, region, image = self.types[opts["type"]], opts["region"], opts["image"]
        if region not in self.regions or image not in self.images:
            raise ValueError("unknown region or image")
        if tag is not None:
            self._check_tag(tag)
        tags = [tag] if tag else []
        created = iso_now(with_z=False)
        public = [self.options.public_ip]
        tag_set = self.tags.setdefault(tag, set()) if tag else None

        def make(n: int) -> int:
            linode_id = next(self._ids)
            label = f"{name_prefix}-{n}"
            while label in self.labels:
                label = f"{label}x"
            seq = next(self._seq)
            self.instances[linode_id] = Instance(linode_id, seq, label, type_, region, image, public,
                                                 self._ipv6(region, seq), created, tags, opts["status"])
            self.labels[label] = linode_id
            if tag_set is not None:
                tag_set.add(linode_id)
            return linode_id

        return self.seeding(count, make)

    # -- helpers ----------------------------------------------------------------------------------

    def _ipv6(self, region: str, seq: int) -> str:
        ri = self.region_index.get(region, 0)
        return f"2001:db8:{ri:x}:{(seq >> 16) & 0xffff:x}::{seq & 0xffff:x}/128"

    def _private_ip(self, seq: int) -> str:
        return f"192.168.{128 + (seq >> 8) % 128}.{seq & 255}"

    def _instance(self, linode_id: str) -> Instance:
        inst = self.found(self.instances, int(linode_id), "Not found")
        return inst


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

    # -- profile / account ------------------------------------------------------------------------

    def get_profile(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, self.profile)

    def get_account(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, self.account)

    # -- instances --------------------------------------------------------------------------------

    def list_instances(self, request: SimRequest) -> SimResponse:
        flt = self._filter(request)
        if flt is not None:
            order_by = flt.pop("+order_by", None)
            order = flt.pop("+order", "asc")
            try:
                jsonfilter.check_fields(flt, _INSTANCE_FILTER_FIELDS)
            except jsonfilter.FilterError as exc:
                self.fail(400, str(exc))
            if order_by is not None and order_by not in _INSTANCE_FILTER_FIELDS:
                self.fail(400, f"Cannot order by {order_by}")
            if order not in ("asc", "desc"):
                self.fail(400, "+order must be 'asc' or 'desc'")
            key = ("filter", json.dumps(flt, sort_keys=True), order_by, order)

            def build() -> list[Instance]:
                items = [i for i in self.instances.values() if jsonfilter.matches(flt, i.field)]
                if order_by is not None:
                    items.sort(key=lambda i: jsonfilter.sort_key(i.field(order_by)), reverse=order == "desc")
                elif order == "desc":
                    items.reverse()
                return items

            items = self.listing(key, build)
        else:
            items = self.listing("all", lambda: list(self.instances.values()))
        tails = self._tails
        return self.paged(request, len(items), lambda s, e: [i.render(tails) for i in items[s:e]])

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
            raise ApiError(SimResponse(400, dumps({"errors": errors})))
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
        self.release_linode(inst.id)
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

    @staticmethod
    def _address(inst: Instance, address: str, public: bool) -> dict[str, Any]:
        gateway = ".".join([*address.split(".")[:3], "1"]) if public else None
        return {"address": address, "gateway": gateway,
                "subnet_mask": "255.255.255.0" if public else "255.255.128.0", "prefix": 24 if public else 17,
                "type": "ipv4", "public": public, "rdns": None, "linode_id": inst.id, "region": inst.region}

    def _shared_with(self, inst: Instance) -> list[dict[str, Any]]:
        owners = ((self._owner(ip), ip) for ip in self.shared_ips.get(inst.id, []))
        return [self._address(owner, ip, not ip.startswith("192.168.")) for owner, ip in owners if owner is not None]

    def list_ips(self, request: SimRequest) -> SimResponse:
        """Every IPv4 address of the account's Linodes (``GET /v4/networking/ips``)."""
        return self.paged_list(request, [self._address(inst, a, not a.startswith("192.168."))
                                         for inst in self.instances.values() for a in inst.ipv4])

    def get_ips(self, request: SimRequest, linode_id: str) -> SimResponse:
        inst = self._instance(linode_id)

        def addr(address: str, public: bool) -> dict[str, Any]:
            return self._address(inst, address, public)

        publics = [a for a in inst.ipv4 if not a.startswith("192.168.")]
        privates = [a for a in inst.ipv4 if a.startswith("192.168.")]
        slaac = (inst.ipv6 or "").split("/")[0]
        v6 = {"address": slaac, "gateway": "fe80::1", "subnet_mask": "ffff:ffff:ffff:ffff::", "prefix": 64,
              "type": "ipv6", "public": True, "rdns": None, "linode_id": inst.id, "region": inst.region}
        link_local = {**v6, "address": f"fe80::{inst.seq & 0xffff:x}", "public": False}
        return self.json_response(200, {
            "ipv4": {"public": [addr(a, True) for a in publics], "private": [addr(a, False) for a in privates],
                     "shared": self._shared_with(inst), "reserved": [], "vpc": []},
            "ipv6": {"slaac": v6, "link_local": link_local, "global": []},
        })

    # -- catalog ----------------------------------------------------------------------------------

    def list_types(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.types.values()))

    def get_type(self, request: SimRequest, type_id: str) -> SimResponse:
        t = self.found(self.types, type_id, "Not found")
        return self.json_response(200, t)

    def list_images(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.images.values()))

    def get_image(self, request: SimRequest, image_id: str) -> SimResponse:
        image = self.found(self.images, image_id, "Not found")
        return self.json_response(200, image)

    def list_regions(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.regions.values()))

    def get_region(self, request: SimRequest, region_id: str) -> SimResponse:
        region = self.found(self.regions, region_id, "Not found")
        return self.json_response(200, region)
