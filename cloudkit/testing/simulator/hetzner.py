"""Simulated Hetzner Cloud API v1 account (``https://api.hetzner.cloud/v1``).

Behaviour worth knowing:

- paths under ``/v1``; Bearer token on every path; errors ``{"error": {"code", "message",
  "details"}}``; every answer carries ``RateLimit-Limit``/``-Remaining``/``-Reset``;
- listings page with ``page``/``per_page`` (1..50, default 25) and describe the paging in
  ``meta.pagination`` (``page``, ``per_page``, ``previous_page``, ``next_page``, ``last_page``,
  ``total_entries``); servers filter by ``name``, ``status`` and ``label_selector`` (``k``,
  ``!k``, ``k=v``, ``k==v``, ``k!=v``, comma-separated);
- create answers 201 with the server ``initializing``, its ``action`` and ``next_actions``, and
  a ``root_password`` when no SSH key was given; after ``boot_seconds`` it is ``running`` (or
  ``off`` with ``start_after_create: false``);
- power actions answer 201 with an action (``running``, ``success`` after ``action_seconds``,
  see ``/actions/{id}``): poweron ``starting``→``running``, shutdown ``stopping``→``off``,
  poweroff → ``off``, reboot/reset ``starting``→``running``, rebuild ``rebuilding``→``running``;
  a server name is unique per project (409 ``uniqueness_error``).
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any, ClassVar

from cloudkit.sshkeys import fingerprint_md5, parse_public_key
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, RateLimit, dumps, iso_now, keyed_list, seed_options
from cloudkit.testing.simulator.paging import Page, PageSpec

__all__ = ["HetznerAPI"]

_V = "/v1"
_ID = r"(\d+)"
_CODES = {400: "invalid_input", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "uniqueness_error", 422: "invalid_input", 423: "locked", 429: "rate_limit_exceeded",
          500: "server_error", 503: "unavailable"}
_LOCATIONS = [  # id, name, description, country, city, network zone, lat, lon
    (1, "fsn1", "Falkenstein DC Park 1", "DE", "Falkenstein", "eu-central", 50.47612, 12.370071),
    (2, "nbg1", "Nuremberg DC Park 1", "DE", "Nuremberg", "eu-central", 49.452102, 11.076665),
    (3, "hel1", "Helsinki DC Park 1", "FI", "Helsinki", "eu-central", 60.169855, 24.938379),
    (4, "ash", "Ashburn, VA", "US", "Ashburn, VA", "us-east", 39.045821, -77.487073),
    (5, "hil", "Hillsboro, OR", "US", "Hillsboro, OR", "us-west", 45.542095, -122.949825),
    (6, "sin", "Singapore", "SG", "Singapore", "ap-southeast", 1.283333, 103.833333),
]
_TYPES = [  # id, name, cores, memory GB, disk GB, cpu type, architecture, net EUR/hour, deprecated
    (22, "cx22", 2, 4.0, 40, "shared", "x86", "0.0060", False),
    (23, "cx32", 4, 8.0, 80, "shared", "x86", "0.0113", False),
    (45, "cax11", 2, 4.0, 40, "shared", "arm", "0.0062", False),
    (46, "cax21", 4, 8.0, 80, "shared", "arm", "0.0106", False),
    (96, "ccx13", 2, 8.0, 80, "dedicated", "x86", "0.0224", False),
    (1, "cx11", 1, 2.0, 20, "shared", "x86", "0.0064", True),
]
_IMAGES = [  # id, type, name, description, flavor, version, architecture
    (114690387, "system", "debian-12", "Debian 12", "debian", "12", "x86"),
    (161547269, "system", "ubuntu-24.04", "Ubuntu 24.04", "ubuntu", "24.04", "x86"),
    (114690389, "system", "debian-12", "Debian 12", "debian", "12", "arm"),
    (161547270, "system", "ubuntu-24.04", "Ubuntu 24.04", "ubuntu", "24.04", "arm"),
    (103908070, "system", "rocky-9", "Rocky Linux 9", "rocky", "9", "x86"),
    (99990001, "app", "docker-ce", "Docker CE", "ubuntu", "24.04", "x86"),
]
_BASE_TIME = "2024-05-02T08:00:00Z"


class HetznerAPI(ProviderAPI):
    """A Hetzner Cloud project behind ``https://api.hetzner.cloud/v1``."""

    name = "hetzner"
    auth = "bearer"
    messages: ClassVar[dict[int, str]] = {
        401: "unable to authenticate", 403: "insufficient permissions for this request", 404: "resource not found",
        429: "limit of 3600 requests per hour reached"}
    rate_limit = RateLimit(3600, 3600, ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"))
    retry_after_header = ""  # Hetzner states the reset in RateLimit-Reset only
    node_table = "servers"
    node_id_type = int
    page_spec = PageSpec("per_page", 25, 50, clamp=False, page_error="invalid page",
                         size_error="per_page must be between 1 and 50")
    routes = (
        ("GET", rf"{_V}/servers", "list_servers"),
        ("POST", rf"{_V}/servers", "create_server"),
        ("GET", rf"{_V}/servers/{_ID}", "get_server"),
        ("DELETE", rf"{_V}/servers/{_ID}", "delete_server"),
        ("POST", rf"{_V}/servers/{_ID}/actions/(poweron|poweroff|shutdown|reboot|reset|rebuild)", "server_action"),
        ("GET", rf"{_V}/actions/{_ID}", "get_action"),
        ("GET", rf"{_V}/server_types", "list_server_types"),
        ("GET", rf"{_V}/images", "list_images"),
        ("GET", rf"{_V}/locations", "list_locations"),
        ("GET", rf"{_V}/datacenters", "list_datacenters"),
        ("GET", rf"{_V}/ssh_keys", "list_keys"),
        ("POST", rf"{_V}/ssh_keys", "create_key"),
        ("GET", rf"{_V}/ssh_keys/{_ID}", "get_key"),
        ("DELETE", rf"{_V}/ssh_keys/{_ID}", "delete_key"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.servers: dict[int, dict[str, Any]] = {}
        self.actions: dict[int, dict[str, Any]] = {}
        self.keys: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(42_000_001)
        self._action_ids = itertools.count(7_000_001)
        self._key_ids = itertools.count(2_300_001)
        self.locations: dict[str, dict[str, Any]] = {name: {
            "id": lid, "name": name, "description": desc, "country": country, "city": city, "latitude": lat,
            "longitude": lon, "network_zone": zone}
                          for lid, name, desc, country, city, zone, lat, lon in _LOCATIONS}
        self.datacenters = {f"{name}-dc{lid + 1}": {
            "id": lid, "name": f"{name}-dc{lid + 1}", "description": f"{loc['city']} DC {lid + 1}", "location": loc,
            "server_types": {"supported": [t[0] for t in _TYPES], "available": [t[0] for t in _TYPES if not t[8]],
                             "available_for_migration": [t[0] for t in _TYPES]}}
            for name, loc in self.locations.items() for lid in [int(loc["id"])]}
        deprecation = {"announced": "2024-06-06T00:00:00Z", "unavailable_after": "2024-09-06T00:00:00Z"}
        self.types = {name: {
            "id": tid, "name": name, "description": name.upper(), "cores": cores, "memory": memory, "disk": disk,
            "deprecated": old, "deprecation": deprecation if old else None, "storage_type": "local",
            "cpu_type": cpu, "architecture": arch, "category": "cost_optimized" if cpu == "shared" else "dedicated",
            "prices": [{"location": loc, "price_hourly": {"net": price, "gross": f"{float(price) * 1.19:.4f}"},
                        "price_monthly": {"net": f"{float(price) * 730:.4f}", "gross": f"{float(price) * 868.7:.4f}"},
                        "included_traffic": 21990232555520,
                        "price_per_tb_traffic": {"net": "1.0000", "gross": "1.1900"}}
                       for loc in self.locations if not (arch == "arm" and loc not in ("fsn1", "nbg1", "hel1"))],
            "locations": [{"id": loc["id"], "name": loc["name"], "deprecation": deprecation if old else None,
                           "available": not old, "recommended": loc["name"] == "fsn1"}
                          for loc in self.locations.values()]}
            for tid, name, cores, memory, disk, cpu, arch, price, old in _TYPES}
        self.images = {iid: {
            "id": iid, "type": kind, "status": "available", "name": name, "description": desc, "image_size": None,
            "disk_size": 5, "created": _BASE_TIME, "created_from": None, "bound_to": None, "os_flavor": flavor,
            "os_version": version, "rapid_deploy": True, "protection": {"delete": False}, "deprecated": None,
            "deleted": None, "labels": {}, "architecture": arch}
            for iid, kind, name, desc, flavor, version, arch in _IMAGES}

    # -- provider conventions -------------------------------------------------------------------

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        details = {"fields": [{"name": extra["field"], "messages": [message]}]} if extra.get("field") else {}
        code = extra.get("code") or _CODES.get(status, "server_error" if status >= 500 else "invalid_input")
        return SimResponse(status, dumps({"error": {"code": code, "message": message, "details": details}}))

    def page_body(self, request: SimRequest, page: Page, items: bytes, **shape: Any) -> bytes:
        n, last = page.number, page.pages
        pagination = {"page": n, "per_page": page.size, "previous_page": n - 1 if n > 1 else None,
                      "next_page": n + 1 if n < last else None, "last_page": last, "total_entries": page.total}
        return keyed_list(shape["key"], items, meta={"pagination": pagination})

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` running servers (``size``/``image``/``region`` pick their type, image id
        and location; ``tag`` becomes a label)."""
        opts = seed_options(fields, {"size": "cx22", "image": 114690387, "region": "fsn1", "status": "running"})
        type_, image = self.types[opts["size"]], self.images[int(opts["image"])]
        location = self.locations[opts["region"]]

        def make(n: int) -> int:
            labels = {tag: ""} if tag else {}
            return int(self._add(f"{name_prefix}-{n}", type_, image, location, labels, opts["status"])["id"])

        return self.seeding(count, make)

    # -- helpers ------------------------------------------------------------------------------------

    def _add(self, name: str, type_: dict[str, Any], image: dict[str, Any], location: dict[str, Any],
             labels: dict[str, str], status: str) -> dict[str, Any]:
        server_id = next(self._ids)
        datacenter = next(d for d in self.datacenters.values() if d["location"] is location)
        seq = server_id - 42_000_000
        server = {
            "id": server_id, "name": name, "status": status, "created": iso_now(),
            "public_net": {"ipv4": {"id": server_id, "ip": self.options.public_ip, "blocked": False,
                                    "dns_ptr": f"static.{seq}.example.com"},
                           "ipv6": {"id": server_id, "ip": f"2001:db8:{seq >> 16:x}:{seq & 0xffff:x}::/64",
                                    "blocked": False, "dns_ptr": []},
                           "floating_ips": [], "firewalls": []},
            "private_net": [], "server_type": type_, "datacenter": datacenter, "location": location,
            "image": image, "iso": None, "rescue_enabled": False, "locked": False, "backup_window": None,
            "outgoing_traffic": 0, "ingoing_traffic": 0, "included_traffic": 21990232555520,
            "protection": {"delete": False, "rebuild": False}, "labels": labels, "volumes": [],
            "load_balancers": [], "primary_disk_size": type_["disk"], "placement_group": None,
        }
        self.servers[server_id] = server
        return server

    def _action(self, command: str, server_id: int, seconds: float, done: Any = None) -> dict[str, Any]:
        action: dict[str, Any] = {"id": next(self._action_ids), "command": command, "status": "running", "progress": 0,
                  "started": iso_now(), "finished": None, "resources": [{"id": server_id, "type": "server"}],
                  "error": None}
        self.actions[action["id"]] = action

        def finish() -> None:
            server = self.servers.get(server_id)
            if server is None and command != "delete_server":
                action.update(status="error", error={"code": "server_deleted", "message": "server was deleted"})
            elif done is not None:
                done(server)
            if action["status"] == "running":
                action.update(status="success", progress=100, finished=iso_now())
            self.changed()

        self.later(seconds, finish)
        return action

    def _server(self, server_id: str) -> dict[str, Any]:
        return self.found(self.servers, int(server_id), "server not found")

    # -- handlers -----------------------------------------------------------------------------------

    def list_servers(self, request: SimRequest) -> SimResponse:
        name, selector = request.arg("name"), request.arg("label_selector")
        statuses = request.query.get("status") or []
        items = [s for s in self.servers.values() if (name is None or s["name"] == name)
                 and (not statuses or s["status"] in statuses) and _selects(selector, s["labels"])]
        return self.paged_list(request, items, key="servers")

    def get_server(self, request: SimRequest, server_id: str) -> SimResponse:
        return self.json_response(200, {"server": self._server(server_id)})

    def create_server(self, request: SimRequest) -> SimResponse:
        body = self.json_object(request, "invalid JSON body")
        name, type_name, image_ref = body.get("name"), body.get("server_type"), body.get("image")
        if not isinstance(name, str) or not name or len(name) > 63:
            self.fail(400, "invalid name", field="name")
        if any(s["name"] == name for s in self.servers.values()):
            self.fail(409, "server name is already used", field="name")
        type_ = self.types.get(str(type_name)) or next(
            (t for t in self.types.values() if str(t["id"]) == str(type_name)), None)
        if type_ is None:
            self.fail(400, "server type not found", field="server_type")
        image = next((i for i in self.images.values() if str(image_ref) in (str(i["id"]), i["name"])
                      and i["architecture"] == type_["architecture"]), None)
        if image is None:
            self.fail(400, "image not found", field="image")
        location = self.locations.get(str(body.get("location", "fsn1")))
        if location is None:
            self.fail(400, "location not found", field="location")
        keys = body.get("ssh_keys") or []
        for ref in keys:
            if not any(str(ref) in (str(k["id"]), k["name"]) for k in self.keys.values()):
                self.fail(400, f"SSH key {ref} not found", field="ssh_keys")
        labels = body.get("labels") or {}
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            self.fail(400, "labels must map strings to strings", field="labels")
        start = body.get("start_after_create", True)
        server = self._add(name, type_, image, location, labels, "initializing")
        self.changed()

        def booted(srv: dict[str, Any] | None) -> None:
            if srv is not None and srv["status"] == "initializing":
                srv["status"] = "running" if start else "off"

        action = self._action("create_server", server["id"], self.options.boot_seconds, booted)
        nxt = [self._action("start_server", server["id"], self.options.boot_seconds)] if start else []
        password = None if keys else secrets.token_urlsafe(15)
        return self.json_response(201, {"server": server, "action": action, "next_actions": nxt,
                                        "root_password": password})

    def delete_server(self, request: SimRequest, server_id: str) -> SimResponse:
        server = self._server(server_id)
        del self.servers[server["id"]]
        self.changed()
        return self.json_response(200, {"action": self._action("delete_server", server["id"], 0)})

    def server_action(self, request: SimRequest, server_id: str, command: str) -> SimResponse:
        server = self._server(server_id)
        if server["status"] in ("initializing", "deleting", "rebuilding", "migrating") or server["locked"]:
            self.fail(423, "server is locked by another action", code="locked")
        answer: dict[str, Any] = {}
        if command == "rebuild":
            ref = str(self.json_object(request, "invalid JSON body").get("image"))
            image = next((i for i in self.images.values() if ref in (str(i["id"]), i["name"])), None)
            if image is None:
                self.fail(400, "image not found", field="image")
            server["image"] = image
            answer["root_password"] = secrets.token_urlsafe(15)
        # (status while the action runs, status after it); None: no change (already there)
        change = {"poweron": ("starting", "running"), "shutdown": ("stopping", "off"), "poweroff": (None, "off"),
                  "reboot": ("starting", "running"), "reset": ("starting", "running"),
                  "rebuild": ("rebuilding", "running")}[command]
        if (command == "poweron" and server["status"] == "running") or (
                command in ("shutdown", "poweroff") and server["status"] == "off"):
            change = (None, server["status"])
        transient, final = change
        if transient is not None:
            server["status"] = transient
        self.changed()

        def done(srv: dict[str, Any] | None) -> None:
            if srv is not None and (transient is None or srv["status"] == transient):
                srv["status"] = final

        answer["action"] = self._action(f"{command}_server", server["id"], self.options.action_seconds, done)
        return self.json_response(201, answer)

    def get_action(self, request: SimRequest, action_id: str) -> SimResponse:
        return self.json_response(200, {"action": self.found(self.actions, int(action_id), "action not found")})

    def list_server_types(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.types.values()), key="server_types")

    def list_images(self, request: SimRequest) -> SimResponse:
        kinds, arch = request.query.get("type") or [], request.arg("architecture")
        items = [i for i in self.images.values() if (not kinds or i["type"] in kinds)
                 and (arch is None or i["architecture"] == arch)]
        return self.paged_list(request, items, key="images")

    def list_locations(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.locations.values()), key="locations")

    def list_datacenters(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.datacenters.values()), key="datacenters")

    def list_keys(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.keys.values()), key="ssh_keys")

    def get_key(self, request: SimRequest, key_id: str) -> SimResponse:
        return self.json_response(200, {"ssh_key": self.found(self.keys, int(key_id), "SSH key not found")})

    def create_key(self, request: SimRequest) -> SimResponse:
        body = self.json_object(request, "invalid JSON body")
        name, public = body.get("name"), body.get("public_key")
        if not isinstance(name, str) or not name:
            self.fail(400, "invalid name", field="name")
        try:
            parse_public_key(str(public))
            fingerprint = fingerprint_md5(str(public))
        except Exception:
            self.fail(400, "invalid public key", field="public_key")
        if any(k["name"] == name or k["fingerprint"] == fingerprint for k in self.keys.values()):
            self.fail(409, "SSH key with the same name or fingerprint already exists", field="public_key")
        key: dict[str, Any] = {"id": next(self._key_ids), "name": name, "fingerprint": fingerprint,
                               "public_key": str(public).strip(), "labels": body.get("labels") or {},
                               "created": iso_now()}
        self.keys[key["id"]] = key
        return self.json_response(201, {"ssh_key": key})

    def delete_key(self, request: SimRequest, key_id: str) -> SimResponse:
        del self.keys[self.found(self.keys, int(key_id), "SSH key not found")["id"]]
        return self.empty(204)


def _selects(selector: str | None, labels: dict[str, str]) -> bool:
    """Whether ``labels`` match a label selector (the simple forms: ``k``, ``!k``, ``k=v``,
    ``k==v``, ``k!=v``, joined by commas)."""
    for term in (selector or "").split(","):
        term = term.strip()
        if not term:
            continue
        if "!=" in term:
            key, value = (p.strip() for p in term.split("!=", 1))
            ok = labels.get(key) != value
        elif "=" in term:
            key, value = (p.strip() for p in term.replace("==", "=").split("=", 1))
            ok = labels.get(key) == value
        elif term.startswith("!"):
            ok = term[1:].strip() not in labels
        else:
            ok = term in labels
        if not ok:
            return False
    return True
