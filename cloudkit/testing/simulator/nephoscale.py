"""Simulated NephoScale account, per ``shared/api/nephoscale.md``.

The provider's documentation is gone; this follows the fact sheet's best reading:

- HTTP Basic auth (``username``/``password``: ``Simulator.credentials``); form-encoded
  POST/PUT bodies (JSON objects are accepted too, and ``_method=PUT`` overrides a POST);
  every path ends with ``/`` (the slash is optional here);
- every answer is the envelope ``{success, response, message, subcode, data[, total_count]}``;
  errors use the same envelope with ``success: false`` and ``response`` equal to the HTTP
  status (the fact sheet's guess: no real error body survives);
- create, power actions, rename and delete answer HTTP 200 with a *job* envelope
  (``response: 202``, ``data: {id, resource_type: "/job", uri}``), never the server id: the
  server shows up in ``GET /server/cloud/`` at once with ``power_status: "unknown"`` and no
  addresses, and after ``boot_seconds`` is ``on`` with ``ipaddresses`` "PUBLIC, 10.x.x.x";
- a cloud server needs a ``server_key`` (group 1) and a ``console_key`` (group 4);
  ``name`` must start with a letter (letters, digits, ``-``, ``_``, at most 64), ``hostname``
  at most 15 characters (when omitted, the name cut to 15 is used);
- ``GET /job/{id}/`` (shape invented: no client ever read it) says ``in_progress`` or
  ``finished``.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any, ClassVar

from cloudkit.errors import ValidationError
from cloudkit.sshkeys import parse_public_key
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, dumps, seed_options

__all__ = ["NephoScaleAPI"]

NAME_RE = re.compile(r"^[A-Za-z]([A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$")
HOSTNAME_RE = re.compile(r"^[A-Za-z]([A-Za-z0-9-]{0,13}[A-Za-z0-9])?$")
_OK = "Your request was processed successfully."
_API = "https://api.nephoscale.com"

# id, name, airport code, datacenter id, activated
_ZONES = [(93001, "SJC-3", "SJC", 11, True), (93002, "RIC-3", "RIC", 12, True), (93003, "IAD-2", "IAD", 13, False)]
# id, sku, description, ram MB, storage GB, vcpus, billable_type
_TYPES = [
    (5, "CS05", "Cloud Server 0.5 GB RAM, 1 Core", 512, 25, 1, 1),
    (3, "CS1", "Cloud Server 1 GB RAM, 1 Core", 1024, 50, 1, 1),
    (46, "CS2.1", "Cloud Server 2 GB RAM, 1 Core", 2048, 100, 1, 1),
    (7, "CS2.2", "Cloud Server 2 GB RAM, 2 Cores", 2048, 100, 2, 1),
    (48, "CS4.2", "Cloud Server 4 GB RAM, 2 Cores", 4096, 200, 2, 1),
    (9, "CS4.4", "Cloud Server 4 GB RAM, 4 Cores", 4096, 200, 4, 1),
    (11, "CS8.8", "Cloud Server 8 GB RAM, 8 Cores", 8192, 400, 8, 1),
    (1, "CS16.16", "Cloud Server 16 GB RAM, 16 Cores", 16384, 800, 16, 1),
    (221, "CS1-SSD", "Cloud Server 1 GB RAM, 1 Core, SSD", 1024, 25, 1, 1),
    (71, "DS4", "Dedicated Server 8 GB RAM, 4 Cores", 8192, 500, 4, 2),
]
# id, friendly name, architecture, base type, deployable type, default
_IMAGES = [
    (301, "Linux Ubuntu Server 22.04 LTS 64-bit", "x86_64", "linux", "both", True),
    (302, "Linux Debian 12 64-bit", "x86_64", "linux", "both", True),
    (303, "Linux Rocky 9 64-bit", "x86_64", "linux", "both", False),
    (304, "Windows Server 2022 64-bit", "x86_64", "windows", "both", True),
    (305, "Linux Debian 12 32-bit", "x86", "linux", "cloud", False),
]
_TIME_FMT = "%Y-%m-%d %H:%M:%S"


def _now() -> str:
    return time.strftime(_TIME_FMT, time.gmtime())


class Server:
    __slots__ = ("console_key", "created", "hostname", "id", "image", "name", "power", "ready", "seq",
                 "server_key", "type", "zone")

    def __init__(self, server_id: int, seq: int, name: str, hostname: str, type_: dict[str, Any],
                 image: dict[str, Any], zone: dict[str, Any], server_key: dict[str, Any],
                 console_key: dict[str, Any] | None) -> None:
        self.id = server_id
        self.seq = seq
        self.name = name
        self.hostname = hostname
        self.type = type_
        self.image = image
        self.zone = zone
        self.server_key = server_key
        self.console_key = console_key
        self.power = "unknown"
        self.ready = False
        self.created = _now()


class NephoScaleAPI(ProviderAPI):
    """A NephoScale account behind ``https://api.nephoscale.com``."""

    name = "nephoscale"
    option_defaults: ClassVar[dict[str, Any]] = {"username": "simuser"}
    auth = "basic"
    messages: ClassVar[dict[int, str]] = {401: "Authorization failed: invalid username or password",
                                          403: "You are not allowed to perform this action"}
    retry_after_style = "whole"
    node_table = "servers"
    node_id_type = int
    status_field = "power"
    routes = (
        ("GET", r"/datacenter/zone", "list_zones"),
        ("GET", r"/image/server", "list_images"),
        ("GET", r"/image/server/(\d+)", "get_image"),
        ("GET", r"/server/type", "list_all_types"),
        ("GET", r"/server/type/(cloud|dedicated)", "list_types"),
        ("GET", r"/server", "list_all_servers"),
        ("GET", r"/server/cloud", "list_servers"),
        ("POST", r"/server/cloud", "create_server"),
        ("GET", r"/server/cloud/(\d+)", "get_server"),
        ("PUT", r"/server/cloud/(\d+)", "rename_server"),
        ("DELETE", r"/server/cloud/(\d+)", "delete_server"),
        ("POST", r"/server/cloud/(\d+)/initiator/(restart|start|stop)", "initiate"),
        ("GET", r"/key", "list_keys"),
        ("GET", r"/key/(sshrsa|password)", "list_keys_of"),
        ("POST", r"/key/(sshrsa|password)", "create_key"),
        ("GET", r"/key/(sshrsa|password)/(\d+)", "get_key"),
        ("DELETE", r"/key/(sshrsa|password)/(\d+)", "delete_key"),
        ("GET", r"/job/(\d+)", "get_job"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.username: str = self.settings["username"]
        self.tokens = {f"{self.username}:{self.token}": "full"}
        self.servers: dict[int, Server] = {}
        self.keys: dict[int, dict[str, Any]] = {}
        self.jobs: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(150_001)
        self._seq = itertools.count(1)
        self._key_ids = itertools.count(95_001)
        self._job_ids = itertools.count(530_001)
        self.zones: dict[int, dict[str, Any]] = {}
        self.types: dict[int, dict[str, Any]] = {}
        self.images: dict[int, dict[str, Any]] = {}
        self._build_catalog()

    def _uri(self, path: str) -> str:
        """A resource URI as the provider writes them (clients use ids, not these)."""
        return f"{_API}{path}"

    def _build_catalog(self) -> None:
        base = _API
        for zid, name, code, dcid, activated in _ZONES:
            self.zones[zid] = {"id": zid, "name": name, "uri": f"{base}/datacenter/zone/{zid}/",
                               "activated": activated,
                               "datacenter": {"id": dcid, "name": name, "airport_code": code,
                                              "uri": f"{base}/datacenter/{dcid}/"}}
        for tid, sku, desc, ram, storage, vcpus, billable in _TYPES:
            kind = "cloud" if billable == 1 else "dedicated"
            gb = f"{ram / 1024:g}GB"
            self.types[tid] = {"id": tid, "friendly_name": f"{sku} - {gb}, {vcpus}Core, {storage}GB",
                               "sku": {"name": sku, "description": desc}, "ram": ram, "storage": storage,
                               "vcpus": vcpus, "billable_type": billable,
                               "uri": f"{base}/server/type/{kind}/{tid}/"}
        for iid, name, arch, base_type, deployable, default in _IMAGES:
            self.images[iid] = {"id": iid, "friendly_name": name, "architecture": arch, "base_type": base_type,
                                "deployable_type": deployable, "is_active": True, "is_default": default,
                                "max_cpu": 64, "max_memory": 128, "create_time": "2024-02-01 12:00:00",
                                "uri": f"{base}/image/server/{iid}/"}

    # -- provider conventions -------------------------------------------------------------------

    @property
    def credentials(self) -> tuple[str, str | None]:
        return self.username, self.token

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        body = {"success": False, "response": status, "message": message, "subcode": extra.get("subcode", 1),
                "data": {}}
        return SimResponse(status, dumps(body))

    def not_found(self, what: str = "") -> SimResponse:
        return self.error(404, f"{what or 'Resource'} not found")

    def normalise_path(self, path: str) -> str:
        return path.rstrip("/") or "/"

    def handle(self, request: SimRequest) -> SimResponse:
        if request.method == "POST" and b"_method=" in request.body:
            try:
                override = str(request.params().get("_method", "")).upper()
            except ValueError:
                override = ""
            if override in ("PUT", "DELETE"):
                request.method = override
        return super().handle(request)

    def _envelope(self, data: Any, response: int = 200, total: int | None = None) -> SimResponse:
        body: dict[str, Any] = {"success": True, "response": response, "message": _OK, "subcode": 0, "data": data}
        if total is not None:
            body["total_count"] = total
        return SimResponse(200, dumps(body))

    def _list(self, items: list[Any]) -> SimResponse:
        return self._envelope(items, total=len(items))

    def _job(self, command: str, seconds: float = 0.0, server: Server | None = None) -> SimResponse:
        job_id = next(self._job_ids)
        job = {"id": job_id, "command": command, "status": "in_progress" if seconds > 0 else "finished",
               "create_time": _now(), "finish_time": None if seconds > 0 else _now(),
               "resource_uri": self._uri(f"/server/cloud/{server.id}/") if server else None}
        self.jobs[job_id] = job

        def done() -> None:
            job["status"], job["finish_time"] = "finished", _now()

        if seconds > 0:
            self.later(seconds, done)
        return self._envelope({"id": job_id, "resource_type": "/job", "uri": self._uri(f"/job/{job_id}/")},
                              response=202)

    # -- introspection ----------------------------------------------------------------------------

    def status_forced(self, node: Any, status: str) -> None:
        node.ready = node.ready or status == "on"

    def _default_keys(self) -> tuple[dict[str, Any], dict[str, Any]]:
        server_key = next((k for k in self.keys.values() if k["key_group"] == 1), None)
        console_key = next((k for k in self.keys.values() if k["key_group"] == 4), None)
        if server_key is None:
            server_key = self._add_key("password", "seed-server-key", 1, password=secrets.token_hex(8))
        if console_key is None:
            console_key = self._add_key("password", "seed-console-key", 4, password=secrets.token_hex(8))
        return server_key, console_key

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` running cloud servers (NephoScale has no tags)."""
        if tag is not None:
            raise ValueError("NephoScale has no tags")
        opts = seed_options(fields, {"service_type": 3, "image": 301, "zone": 93001, "status": "on"},
                            {"size": "service_type"})
        type_, image = self.types[int(opts["service_type"])], self.images[int(opts["image"])]
        zone = self.zones[int(opts["zone"])]
        server_key, console_key = self._default_keys()

        def make(n: int) -> int:
            name = f"{name_prefix}-{n}"
            s = Server(next(self._ids), next(self._seq), name, name[:15].rstrip("-_"), type_, image, zone,
                       server_key, console_key)
            s.power, s.ready = opts["status"], True
            self.servers[s.id] = s
            return s.id

        return self.seeding(count, make)

    # -- rendering --------------------------------------------------------------------------------

    def _key_ref(self, key: dict[str, Any]) -> dict[str, Any]:
        return {"key_type": key["key_type"], "key_group": key["key_group"], "id": key["id"], "uri": key["uri"]}

    def _server_json(self, s: Server) -> dict[str, Any]:
        n = s.seq
        ips = (f"{self.options.public_ip}, 10.{128 + (n >> 16) % 64}.{(n >> 8) & 255}.{n & 255}"
               if s.ready else "")
        zone = s.zone
        code = zone["datacenter"]["airport_code"]
        mac = f"00:16:3e:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"
        t = s.type
        return {
            "id": s.id, "name": s.name, "hostname": s.hostname, "power_status": s.power, "ipaddresses": ips,
            "create_time": s.created, "postinit_state": 1 if s.ready else 0, "is_console_enabled": True,
            "podzone": f"P{1 + n % 3}A{1 + n % 4}", "memory": t["ram"],
            "uri": self._uri(f"/server/cloud/{s.id}/"),
            "zone": {"id": zone["id"], "name": zone["name"], "uri": zone["uri"]},
            "image": {**s.image, "has_agent": True},
            "service_type": {"id": t["id"], "friendly_name": t["friendly_name"], "sku": t["sku"],
                             "billable_type": t["billable_type"], "uri": t["uri"]},
            "server_keys": [self._key_ref(s.server_key)],
            "console_keys": [self._key_ref(s.console_key)] if s.console_key else [],
            "network_ports": [
                {"devname": "eth0", "macaddress": mac,
                 "network_domain": {"domain_type": 0, "name": f"default_public_network_{code}"}},
                {"devname": "eth1", "macaddress": mac[:-2] + f"{(n + 4) & 255:02x}",
                 "network_domain": {"domain_type": 1, "name": f"default_private_network_{code}"}},
            ],
        }

    # -- catalog ----------------------------------------------------------------------------------

    def list_zones(self, request: SimRequest) -> SimResponse:
        return self._list(list(self.zones.values()))

    def list_images(self, request: SimRequest) -> SimResponse:
        return self._list(list(self.images.values()))

    def get_image(self, request: SimRequest, image_id: str) -> SimResponse:
        image = self.images.get(int(image_id))
        if image is None:
            return self.not_found("Image")
        return self._envelope([image], total=1)

    def list_all_types(self, request: SimRequest) -> SimResponse:
        return self._list(list(self.types.values()))

    def list_types(self, request: SimRequest, kind: str) -> SimResponse:
        billable = 1 if kind == "cloud" else 2
        items = [t for t in self.types.values() if t["billable_type"] == billable]
        if request.arg("sort") == "ram":
            items.sort(key=lambda t: t["ram"])
        return self._list(items)

    # -- servers ----------------------------------------------------------------------------------

    def list_servers(self, request: SimRequest) -> SimResponse:
        return self._list([self._server_json(s) for s in self.servers.values()])

    def list_all_servers(self, request: SimRequest) -> SimResponse:
        return self.list_servers(request)

    def _server(self, server_id: str) -> Server:
        s = self.found(self.servers, int(server_id), "Server not found")
        return s

    def get_server(self, request: SimRequest, server_id: str) -> SimResponse:
        return self._envelope([self._server_json(self._server(server_id))], total=1)

    def _int_field(self, params: dict[str, Any], name: str, table: dict[int, Any]) -> Any:
        value = params.get(name)
        try:
            item = table.get(int(str(value)))
        except ValueError:
            item = None
        if item is None:
            self.fail(400, f"Invalid value for field: {name}")
        return item

    def create_server(self, request: SimRequest) -> SimResponse:
        params = request.params()
        name = params.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            self.fail(400, "Invalid value for field: name (start with a letter; letters, digits, '-' and '_'; "
                           "at most 64 characters; end with a letter or digit)")
        hostname = params.get("hostname")
        if hostname in (None, ""):
            hostname = re.sub(r"[^A-Za-z0-9-]", "-", name)[:15].rstrip("-")
        elif not isinstance(hostname, str) or not HOSTNAME_RE.match(hostname):
            self.fail(400, "Invalid value for field: hostname (start with a letter; letters, digits and '-'; "
                           "at most 15 characters)")
        type_ = self._int_field(params, "service_type", self.types)
        if type_["billable_type"] != 1:
            self.fail(400, "Invalid value for field: service_type (not a cloud server type)")
        image = self._int_field(params, "image", self.images)
        zone = self._int_field(params, "zone", self.zones)
        if not zone["activated"]:
            self.fail(400, "Invalid value for field: zone (zone is not activated)")
        server_key = self._int_field(params, "server_key", self.keys)
        if server_key["key_group"] != 1:
            self.fail(400, "Invalid value for field: server_key (not a server key)")
        console_key = self._int_field(params, "console_key", self.keys)
        if console_key["key_group"] != 4 or console_key["key_type"] != 1:
            self.fail(400, "Invalid value for field: console_key (not a console password key)")
        s = Server(next(self._ids), next(self._seq), name, str(hostname), type_, image, zone, server_key,
                   console_key)
        self.servers[s.id] = s
        self.changed()

        def booted() -> None:
            if s.id in self.servers:
                s.power, s.ready = "on", True
                self.changed()

        self.later(self.options.boot_seconds, booted)
        return self._job("create", self.options.boot_seconds, s)

    def rename_server(self, request: SimRequest, server_id: str) -> SimResponse:
        s = self._server(server_id)
        params = request.params()
        name, hostname = params.get("name"), params.get("hostname")
        if name is not None and (not isinstance(name, str) or not NAME_RE.match(name)):
            self.fail(400, "Invalid value for field: name")
        if hostname is not None and (not isinstance(hostname, str) or not HOSTNAME_RE.match(hostname)):
            self.fail(400, "Invalid value for field: hostname")
        if name is None and hostname is None:
            self.fail(400, "Nothing to update: give name or hostname")
        if name is not None:
            s.name = name
        if hostname is not None:
            s.hostname = hostname
        self.changed()
        return self._job("update", 0.0, s)

    def delete_server(self, request: SimRequest, server_id: str) -> SimResponse:
        s = self._server(server_id)
        del self.servers[s.id]
        self.changed()
        return self._job("delete", 0.0, s)

    def initiate(self, request: SimRequest, server_id: str, verb: str) -> SimResponse:
        s = self._server(server_id)
        if not s.ready:
            self.fail(409, "Server is still being provisioned")
        target = {"start": "on", "stop": "off", "restart": "on"}[verb]
        if verb == "restart" and s.power != "on":
            self.fail(409, "Server is not powered on")
        seconds = self.options.action_seconds

        def done() -> None:
            if s.id in self.servers:
                s.power = target
                self.changed()

        self.after(seconds, done)
        return self._job(verb, seconds, s)

    # -- keys -------------------------------------------------------------------------------------

    def _add_key(self, kind: str, name: str, group: int, *, public_key: str | None = None,
                 password: str | None = None) -> dict[str, Any]:
        key_id = next(self._key_ids)
        key: dict[str, Any] = {"id": key_id, "name": name, "key_group": group, "key_type": 2 if kind == "sshrsa" else 1,
                               "create_time": _now(), "uri": self._uri(f"/key/{kind}/{key_id}/")}
        if public_key is not None:
            key["public_key"] = public_key
        if password is not None:
            key["password"] = password
        self.keys[key_id] = key
        return key

    def _public(self, key: dict[str, Any], reveal: bool) -> dict[str, Any]:
        if reveal:
            return key
        return {k: v for k, v in key.items() if k not in ("public_key", "password")}

    def list_keys(self, request: SimRequest) -> SimResponse:
        return self._list([self._public(k, False) for k in self.keys.values()])

    def list_keys_of(self, request: SimRequest, kind: str) -> SimResponse:
        key_type = 2 if kind == "sshrsa" else 1
        return self._list([k for k in self.keys.values() if k["key_type"] == key_type])

    def create_key(self, request: SimRequest, kind: str) -> SimResponse:
        params = request.params()
        name = params.get("name")
        if not isinstance(name, str) or not name.strip():
            self.fail(400, "Invalid value for field: name")
        default_group = 1 if kind == "sshrsa" else 4
        try:
            group = int(str(params.get("key_group", default_group)))
        except ValueError:
            group = -1
        if group not in (1, 4):
            self.fail(400, "Invalid value for field: key_group")
        if kind == "sshrsa":
            public_key = params.get("public_key")
            try:
                parse_public_key(public_key if isinstance(public_key, str) else "")
            except ValidationError:
                self.fail(400, "Invalid value for field: public_key")
            key = self._add_key(kind, name, group, public_key=str(public_key).strip())
        else:
            password = params.get("password")
            if not isinstance(password, str) or len(password) < 6:
                self.fail(400, "Invalid value for field: password")
            key = self._add_key(kind, name, group, password=password)
        body = {"id": key["id"], "resource_type": f"/key/{kind}", "uri": key["uri"]}
        return self._envelope(body, response=201)

    def _key(self, kind: str, key_id: str) -> dict[str, Any]:
        key = self.keys.get(int(key_id))
        if key is None or key["key_type"] != (2 if kind == "sshrsa" else 1):
            self.fail(404, "Key not found")
        return key

    def get_key(self, request: SimRequest, kind: str, key_id: str) -> SimResponse:
        return self._envelope([self._key(kind, key_id)], total=1)

    def delete_key(self, request: SimRequest, kind: str, key_id: str) -> SimResponse:
        key = self._key(kind, key_id)
        del self.keys[key["id"]]
        return self._job("delete_key")

    def get_job(self, request: SimRequest, job_id: str) -> SimResponse:
        job = self.found(self.jobs, int(job_id), "Job not found")
        return self._envelope(job)
