"""Simulated HostVirtual ("VR", vapi v1) account, per ``shared/api/hostvirtual.md``.

The provider's documentation is gone; this follows the fact sheet's best reading:

- the API key travels as ``?key=`` on every request (401 ``{"error": {"code", "message"}}``
  otherwise); bodies may be JSON (with or without a Content-Type) or a form; an id may be in
  the body (``mbpkgid``), the query string, or the path (``/cloud/server/start/ID``); trailing
  slashes are optional;
- a node is a *package* (``mbpkgid``) bought with ``POST /cloud/buy/`` ``{"plan": NAME}`` and
  built with ``POST /cloud/server/build`` (or both at once with ``/cloud/buy_build/``); a
  build is ``BUILDING`` for ``boot_seconds``, then ``RUNNING`` at the simulator's ``public_ip``;
- ``/cloud/server/delete`` uninstalls (``TERMINATED``, the package stays), ``/cloud/cancel``
  removes the package, ``/cloud/unlink`` drops a terminated server's record;
- ``GET /cloud/servers/`` and ``/cloud/packages/`` answer **404 "Not Found: No Records Found"**
  when there is nothing to list (``empty_list_404=False`` turns that off);
- ``/cloud/locations/`` is an object keyed by name (``locations_shape="array"`` for the
  pre-2017 list); every id and number is a string.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any, ClassVar

from cloudkit.errors import ValidationError
from cloudkit.sshkeys import fingerprint_md5, parse_public_key
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, dumps, seed_options

__all__ = ["HostVirtualAPI"]

_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_OPT_ID = r"(?:/(\d+))?"

# plan_id, plan, ram, disk, transfer, price (monthly USD), stock
_PLANS = [
    ("200", "VR1G", "1024MB", "20GB", "1000GB", "6.00", "900"),
    ("201", "VR2G", "2048MB", "40GB", "2000GB", "12.00", "845"),
    ("202", "VR3G", "3072MB", "60GB", "3000GB", "18.00", "412"),
    ("203", "VR4G", "4096MB", "80GB", "4000GB", "24.00", "233"),
    ("204", "VR8G", "8192MB", "160GB", "6000GB", "48.00", "97"),
    ("205", "VR12G", "12288MB", "240GB", "8000GB", "72.00", "18"),
]
# id, os, description, type, size, bits
_IMAGES = [
    ("3101", "Ubuntu 22.04 LTS x64", "Ubuntu 22.04 LTS 64 bit", "ubuntu", "1.1gb", "64"),
    ("3102", "Ubuntu 24.04 LTS x64", "Ubuntu 24.04 LTS 64 bit", "ubuntu", "1.2gb", "64"),
    ("3110", "Debian 12 x64", "Debian 12 (bookworm) 64 bit", "debian", "800mb", "64"),
    ("3120", "Rocky Linux 9 x64", "<p>Rocky Linux 9 minimal install.</p>", "rocky", "1.3gb", "64"),
    ("3130", "Debian 12 i386", "Debian 12 (bookworm) 32 bit", "debian", "750mb", "32"),
]
_LOCATIONS = [
    ("310", "ORD - Chicago, IL"), ("318", "SEA2 - Seattle, WA"), ("321", "LAX - Los Angeles, CA"),
    ("327", "LHR2 - London, UK"), ("336", "NRT - Tokyo, JP"), ("341", "MIA2 - Miami FL"),
]
_IMAGE_TIME = "2024-03-11 09:30:00"


def _is_fqdn(name: Any) -> bool:
    if not isinstance(name, str) or not name or len(name) > 255:
        return False
    labels = name[:-1].split(".") if name.endswith(".") else name.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


class Package:
    """A purchased plan slot; ``built`` once an OS is installed (or being installed)."""

    __slots__ = ("built", "fqdn", "host", "image", "location", "mbpkgid", "plan", "seq", "status", "suspended")

    def __init__(self, mbpkgid: str, seq: int, plan: dict[str, str]) -> None:
        self.mbpkgid = mbpkgid
        self.seq = seq
        self.plan = plan
        self.built = False
        self.fqdn: str | None = None
        self.image: dict[str, str] | None = None
        self.location: tuple[str, str] | None = None
        self.status = "PENDING"
        self.host = str(1000 + seq % 400)
        self.suspended = False


class HostVirtualAPI(ProviderAPI):
    """A HostVirtual account behind ``https://vapi.vr.org``."""

    name = "hostvirtual"
    option_defaults: ClassVar[dict[str, Any]] = {"empty_list_404": True, "locations_shape": "object"}
    auth = "query:key"
    messages: ClassVar[dict[int, str]] = {
        401: "Unauthorized: invalid API key", 403: "Forbidden: this API key may not do that",
        429: "Too Many Requests: slow down", 500: "Internal Server Error", 503: "Service Unavailable"}
    retry_after_style = "whole"
    node_table = "packages"
    node_flag = "built"
    routes = (
        ("GET", r"/cloud/servers", "list_servers"),
        ("GET", rf"/cloud/server{_OPT_ID}", "get_server"),
        ("GET", r"/cloud/packages", "list_packages"),
        ("GET", r"/cloud/package/(\d+)", "get_package"),
        ("GET", r"/cloud/sizes(?:/(\d+))?", "list_sizes"),
        ("GET", r"/cloud/images", "list_images"),
        ("GET", r"/cloud/locations", "list_locations"),
        ("GET", r"/cloud/status/(\d+)", "get_status"),
        ("GET", r"/cloud/serverjob", "get_job"),
        ("GET", r"/cloud/serverjobs", "list_jobs"),
        ("POST", r"/cloud/buy", "buy"),
        ("GET|POST", r"/cloud/buy/([A-Za-z0-9]+)", "buy_named"),
        ("POST", rf"/cloud/server/build{_OPT_ID}", "build"),
        ("POST", r"/cloud/buy_build", "buy_build"),
        ("POST", rf"/cloud/server/(reboot|start|shutdown|stop|delete){_OPT_ID}", "server_action"),
        ("POST", rf"/cloud/(cancel|unlink){_OPT_ID}", "package_action"),
        ("GET", r"/server/sshkeys", "list_keys"),
        ("POST", r"/server/sshkeys", "create_key"),
        ("GET", r"/server/sshkeys/(\d+)", "get_key"),
        ("PUT", r"/server/sshkeys/(\d+)", "update_key"),
        ("DELETE", r"/server/sshkeys/(\d+)", "delete_key"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.packages: dict[str, Package] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, str]] = {}
        self._ids = itertools.count(500_001)
        self._seq = itertools.count(1)
        self._job_ids = itertools.count(9_000_001)
        self._key_ids = itertools.count(5001)
        self.plans = {p[1]: {"plan_id": p[0], "plan": p[1], "ram": p[2], "disk": p[3], "transfer": p[4],
                             "price": p[5], "available": p[6]} for p in _PLANS}
        self.plans_by_id = {p["plan_id"]: p for p in self.plans.values()}
        self.images = {i[0]: {"id": i[0], "os": i[1], "description": i[2], "type": i[3], "subtype": "hvm",
                              "size": i[4], "created": _IMAGE_TIME, "updated": _IMAGE_TIME, "bits": i[5],
                              "tech": "hvm"} for i in _IMAGES}
        self.locations = dict(_LOCATIONS)

    # -- provider conventions -------------------------------------------------------------------

    def make_token(self) -> str:
        return secrets.token_hex(20)

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        return SimResponse(status, dumps({"error": {"code": status, "message": message}}))

    def not_found(self, what: str = "") -> SimResponse:
        return self.error(404, f"Not Found: {what or 'No Records Found'}")

    def bad_body(self, message: str) -> SimResponse:
        return self.error(412, f"Precondition Failed: {message}")

    def normalise_path(self, path: str) -> str:
        return path.rstrip("/") or "/"

    def precondition(self, message: str) -> SimResponse:
        return self.error(412, f"Precondition Failed: {message}")

    # -- introspection ----------------------------------------------------------------------------

    def _servers(self) -> list[Package]:
        return [p for p in self.packages.values() if p.built]

    def package_count(self) -> int:
        with self.lock:
            return len(self.packages)

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` built, running servers (HostVirtual has no tags)."""
        if tag is not None:
            raise ValueError("HostVirtual has no tags")
        opts = seed_options(fields, {"plan": "VR1G", "image": "3101", "location": "310", "status": "RUNNING"},
                            {"size": "plan"})
        plan, image = self.plans[opts["plan"]], self.images[opts["image"]]
        location = (opts["location"], self.locations[opts["location"]])

        def make(n: int) -> str:
            p = Package(str(next(self._ids)), next(self._seq), plan)
            p.built, p.fqdn, p.image, p.location, p.status = (
                True, f"{name_prefix}-{n}.example.com", image, location, opts["status"])
            self.packages[p.mbpkgid] = p
            return p.mbpkgid

        return self.seeding(count, make)

    # -- rendering --------------------------------------------------------------------------------

    def _state(self, p: Package) -> tuple[str, str]:
        """(state, installed) for a status."""
        if p.status in ("RUNNING", "STOPPING", "REBOOTING"):
            return "UP", "1"
        if p.status in ("STOPPED", "STARTING"):
            return "DOWN", "1"
        return "DOWN", "0"

    def _ip(self, p: Package) -> str | None:
        return self.options.public_ip if p.built and p.location else None

    def _ipv6(self, p: Package) -> str:
        return f"2001:db8:{int(p.location[0]) if p.location else 0:x}::{p.seq:x}"

    def _server_json(self, p: Package, full: bool = True) -> dict[str, Any]:
        state, installed = self._state(p)
        image = p.image or {}
        server: dict[str, Any] = {
            "host": p.host, "rescue": "0", "fqdn": p.fqdn, "mbpkgid": p.mbpkgid, "locked": "0",
            "os": image.get("os"), "os_id": image.get("id"), "ip": self._ip(p), "installed": installed,
            "state": state, "package": p.plan["plan"], "ipv6": self._ipv6(p),
            "city": p.location[1] if p.location else None, "status": p.status,
        }
        if full:
            server["location_id"] = p.location[0] if p.location else None
            server["plan_id"] = p.plan["plan_id"]
        return server

    def _package_json(self, p: Package) -> dict[str, Any]:
        if not p.built:
            return {"mbpkgid": p.mbpkgid, "package_status": "Suspended" if p.suspended else "Active",
                    "domU_package": p.plan["plan_id"], "name": p.plan["plan"], "rescue": None, "locked": None,
                    "state": None, "installed": None, "locked_reason": None, "package": p.plan["plan"],
                    "ipv6": "", "city": None, "fqdn": None, "uptime": False, "ip": None, "domu_dom0": None,
                    "os": None, "is_building": False}
        state, installed = self._state(p)
        return {"mbpkgid": p.mbpkgid, "package_status": "Suspended" if p.suspended else "Active",
                "domU_package": p.plan["plan_id"], "name": p.plan["plan"], "rescue": "0", "locked": "0",
                "state": state, "installed": installed, "locked_reason": None, "package": p.plan["plan"],
                "ipv6": self._ipv6(p), "city": p.location[1] if p.location else None, "fqdn": p.fqdn,
                "uptime": "0 days, 1 hours" if state == "UP" else False, "ip": self._ip(p), "domu_dom0": p.host,
                "os": (p.image or {}).get("os"), "is_building": p.status == "BUILDING"}

    def _ok(self) -> SimResponse:
        return self.json_response(200, {"status": "success"})

    # -- lookups ----------------------------------------------------------------------------------

    def _pkg_id(self, request: SimRequest, path_id: str | None) -> str:
        value = path_id or request.params().get("mbpkgid")
        if value in (None, ""):
            self.fail(412, "Precondition Failed: mbpkgid is required")
        return str(value)

    def _package(self, mbpkgid: str) -> Package:
        p = self.found(self.packages, mbpkgid, "Not Found: mbpkgid")
        return p

    def _built(self, mbpkgid: str) -> Package:
        p = self._package(mbpkgid)
        if not p.built:
            self.fail(412, "Precondition Failed: server not built")
        return p

    # -- reads ------------------------------------------------------------------------------------

    def _maybe_empty(self, items: list[Any]) -> SimResponse:
        if not items and self.settings["empty_list_404"]:
            return self.not_found("No Records Found")
        return self.json_response(200, items)

    def list_servers(self, request: SimRequest) -> SimResponse:
        return self._maybe_empty([self._server_json(p) for p in self._servers()])

    def get_server(self, request: SimRequest, path_id: str | None) -> SimResponse:
        p = self._built(self._pkg_id(request, path_id))
        return self.json_response(200, self._server_json(p, full=False))

    def list_packages(self, request: SimRequest) -> SimResponse:
        return self._maybe_empty([self._package_json(p) for p in self.packages.values()])

    def get_package(self, request: SimRequest, mbpkgid: str) -> SimResponse:
        return self.json_response(200, self._package_json(self._package(mbpkgid)))

    def list_sizes(self, request: SimRequest, location: str | None) -> SimResponse:
        location = location or request.arg("location")
        if location and location not in self.locations:
            return self.not_found("location")
        return self.json_response(200, list(self.plans.values()))

    def list_images(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, list(self.images.values()))

    def list_locations(self, request: SimRequest) -> SimResponse:
        if self.settings["locations_shape"] == "array":
            return self.json_response(200, [{"id": i, "name": n} for i, n in self.locations.items()])
        return self.json_response(200, {n: {"name": n, "id": i} for i, n in self.locations.items()})

    def get_status(self, request: SimRequest, mbpkgid: str) -> SimResponse:
        return self.json_response(200, {"status": self._built(mbpkgid).status})

    def get_job(self, request: SimRequest) -> SimResponse:
        mbpkgid = self._pkg_id(request, None)
        job = self.jobs.get(str(request.params().get("job_id", "")))
        if job is None or job["mbpkgid"] != mbpkgid:
            return self.not_found("job")
        return self.json_response(200, {k: v for k, v in job.items() if k != "mbpkgid"})

    def list_jobs(self, request: SimRequest) -> SimResponse:
        mbpkgid = self._pkg_id(request, None)
        self._package(mbpkgid)
        return self.json_response(200, [{k: v for k, v in job.items() if k != "mbpkgid"}
                                        for job in self.jobs.values() if job["mbpkgid"] == mbpkgid])

    # -- ordering and building ----------------------------------------------------------------------

    def _buy(self, plan_name: Any) -> Package:
        plan = self.plans.get(str(plan_name)) if plan_name else None
        if plan is None:
            self.fail(412, "Precondition Failed: invalid plan")
        p = Package(str(next(self._ids)), next(self._seq), plan)
        self.packages[p.mbpkgid] = p
        self.changed()
        return p

    def buy(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, {"id": self._buy(request.params().get("plan")).mbpkgid})

    def buy_named(self, request: SimRequest, plan: str) -> SimResponse:
        return self.json_response(200, {"id": self._buy(plan).mbpkgid})

    def _job(self, p: Package, command: str) -> dict[str, Any]:
        job = {"id": str(next(self._job_ids)), "status": "3", "command": command,
               "ts_insert": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "mbpkgid": p.mbpkgid}
        self.jobs[job["id"]] = job
        return job

    def _check_build(self, params: dict[str, Any]) -> tuple[str, dict[str, str], tuple[str, str]]:
        fqdn = params.get("fqdn")
        if not _is_fqdn(fqdn):
            self.fail(412, "Precondition Failed: fqdn must be a fully qualified domain name")
        image = self.images.get(str(params.get("image", "")))
        if image is None:
            self.fail(412, "Precondition Failed: invalid image")
        location_id = str(params.get("location", ""))
        if location_id not in self.locations:
            self.fail(412, "Precondition Failed: invalid location")
        ssh_key, password, key_id = params.get("ssh_key"), params.get("password"), params.get("ssh_key_id")
        if not (ssh_key or password or key_id):
            self.fail(412, "Precondition Failed: a password, ssh_key or ssh_key_id is required")
        if ssh_key:
            try:
                parse_public_key(str(ssh_key))
            except ValidationError:
                self.fail(412, "Precondition Failed: invalid ssh_key")
        if key_id and str(key_id) not in self.keys:
            self.fail(412, "Precondition Failed: invalid ssh_key_id")
        if password is not None and (not isinstance(password, str) or len(password) < 6):
            self.fail(412, "Precondition Failed: password is too short")
        return str(fqdn), image, (location_id, self.locations[location_id])

    def _start_build(self, p: Package, fqdn: str, image: dict[str, str], location: tuple[str, str]) -> dict[str, Any]:
        p.built, p.fqdn, p.image, p.location, p.status = True, fqdn, image, location, "BUILDING"
        job = self._job(p, "build")
        self.changed()

        def done() -> None:
            job["status"] = "5"
            if p.mbpkgid in self.packages and p.status in ("BUILDING", "PENDING"):
                p.status = "RUNNING"
                self.changed()

        self.later(self.options.boot_seconds, done)
        return job

    def build(self, request: SimRequest, path_id: str | None) -> SimResponse:
        params = request.params()
        p = self._package(self._pkg_id(request, path_id))
        if p.built and p.status != "TERMINATED":
            self.fail(412, "Precondition Failed: server is already built")
        fqdn, image, location = self._check_build(params)
        job = self._start_build(p, fqdn, image, location)
        return self.json_response(200, {"id": job["id"]})

    def buy_build(self, request: SimRequest) -> SimResponse:
        params = request.params()
        plan = self.plans.get(str(params.get("plan", "")))
        if plan is None:
            self.fail(412, "Precondition Failed: invalid plan")
        fqdn, image, location = self._check_build(params)
        p = self._buy(plan["plan"])
        self._start_build(p, fqdn, image, location)
        p.status = "PENDING"
        return self.json_response(200, self._server_json(p))

    # -- actions ----------------------------------------------------------------------------------

    def server_action(self, request: SimRequest, action: str, path_id: str | None) -> SimResponse:
        p = self._built(self._pkg_id(request, path_id))
        params = request.params()
        force = params.get("force", 0)
        if str(force) not in ("0", "1", "true", "false", "True", "False"):
            self.fail(412, "Precondition Failed: force must be 0 or 1")
        if action == "delete":
            if p.status in ("BUILDING", "PENDING"):
                self.fail(412, "Precondition Failed: server is building")
            p.status = "TERMINATED"
            self.changed()
            return self._ok()
        if p.status in ("BUILDING", "PENDING", "STARTING", "STOPPING", "REBOOTING"):
            self.fail(412, f"Precondition Failed: server is busy ({p.status.lower()})")
        if p.status == "TERMINATED":
            self.fail(412, "Precondition Failed: server is not installed")
        if action == "start":
            if p.status == "RUNNING":
                self.fail(412, "Precondition Failed: server is already running")
            self._transition(p, "STARTING", "RUNNING")
        elif action in ("shutdown", "stop"):
            if p.status == "STOPPED":
                self.fail(412, "Precondition Failed: server is already stopped")
            self._transition(p, "STOPPING", "STOPPED")
        else:
            if p.status != "RUNNING":
                self.fail(412, "Precondition Failed: server is not running")
            self._transition(p, "REBOOTING", "RUNNING")
        return self._ok()

    def _transition(self, p: Package, transient: str, final: str) -> None:
        p.status = transient
        self.changed()

        def done() -> None:
            if p.status == transient:
                p.status = final
                self.changed()

        self.after(self.options.action_seconds, done)

    def package_action(self, request: SimRequest, action: str, path_id: str | None) -> SimResponse:
        p = self._package(self._pkg_id(request, path_id))
        if action == "cancel":
            del self.packages[p.mbpkgid]
        else:
            if p.built and p.status != "TERMINATED":
                self.fail(412, "Precondition Failed: server must be deleted before it is unlinked")
            p.built, p.fqdn, p.image, p.location, p.status = False, None, None, None, "PENDING"
        self.changed()
        return self._ok()

    # -- SSH keys ---------------------------------------------------------------------------------

    def _key(self, key_id: str) -> dict[str, str]:
        key = self.found(self.keys, key_id, "Not Found: ssh key")
        return key

    def list_keys(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, list(self.keys.values()))

    def _check_key(self, params: dict[str, Any]) -> tuple[str, str]:
        name, text = params.get("name"), params.get("ssh_key")
        if not isinstance(name, str) or not name.strip():
            self.fail(412, "Precondition Failed: name is required")
        try:
            fingerprint = fingerprint_md5(text if isinstance(text, str) else "")
        except ValidationError:
            self.fail(412, "Precondition Failed: invalid ssh_key")
        return name, fingerprint

    def create_key(self, request: SimRequest) -> SimResponse:
        params = request.params()
        name, fingerprint = self._check_key(params)
        key = {"id": str(next(self._key_ids)), "name": name, "ssh_key": str(params["ssh_key"]).strip(),
               "fingerprint": fingerprint}
        self.keys[key["id"]] = key
        return self.json_response(200, key)

    def get_key(self, request: SimRequest, key_id: str) -> SimResponse:
        return self.json_response(200, self._key(key_id))

    def update_key(self, request: SimRequest, key_id: str) -> SimResponse:
        key = self._key(key_id)
        params = request.params()
        merged = {"name": params.get("name", key["name"]), "ssh_key": params.get("ssh_key", key["ssh_key"])}
        name, fingerprint = self._check_key(merged)
        key.update({"name": name, "ssh_key": str(merged["ssh_key"]).strip(), "fingerprint": fingerprint})
        return self.json_response(200, key)

    def delete_key(self, request: SimRequest, key_id: str) -> SimResponse:
        self._key(key_id)
        del self.keys[key_id]
        return self._ok()
