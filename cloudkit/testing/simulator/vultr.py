"""Simulated Vultr API v2 account (``https://api.vultr.com/v2``).

Behaviour worth knowing:

- paths under ``/v2``; Bearer API key on every path; errors ``{"error": "...", "status": N}``;
  a 429 carries ``Retry-After``;
- listings page by cursor: ``per_page`` (1..500, default 100) and ``cursor``; ``meta.total`` is
  the item count and ``meta.links.next``/``prev`` the cursors (base64 of ``next__<offset>``),
  ``next`` empty on the last page; instances filter by ``tag``, ``label``, ``region``,
  ``main_ip``;
- create answers 202 with the instance ``pending`` (``power_status`` running, ``server_status``
  none, ``main_ip`` 0.0.0.0) and its ``default_password``; after ``boot_seconds`` it is
  ``active``/``running``/``installingbooting``, and ``ok`` after ``action_seconds`` more;
- start/reboot/halt answer 204: reboot and start pass through ``installingbooting`` for
  ``action_seconds``; halt stops at once; reinstall answers 202 with the instance.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from typing import Any, ClassVar

from cloudkit.sshkeys import parse_public_key
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, dumps, iso_now, keyed_list, seed_options
from cloudkit.testing.simulator.paging import OffsetPage, Page, PageSpec

__all__ = ["VultrAPI"]

_V = "/v2"
_UUID = r"([0-9a-f-]{36})"
_REGIONS = [("ewr", "New Jersey", "US", "North America"), ("ord", "Chicago", "US", "North America"),
            ("lax", "Los Angeles", "US", "North America"), ("ams", "Amsterdam", "NL", "Europe"),
            ("fra", "Frankfurt", "DE", "Europe"), ("nrt", "Tokyo", "JP", "Asia"),
            ("sgp", "Singapore", "SG", "Asia"), ("syd", "Sydney", "AU", "Australia")]
_PLANS = [  # id, vcpus, ram MB, disk GB, bandwidth GB, monthly USD, type
    ("vc2-1c-0.5gb", 1, 512, 10, 500, 2.5, "vc2"), ("vc2-1c-1gb", 1, 1024, 25, 1024, 5.0, "vc2"),
    ("vc2-1c-2gb", 1, 2048, 55, 2048, 10.0, "vc2"), ("vc2-2c-4gb", 2, 4096, 80, 3072, 20.0, "vc2"),
    ("vhf-1c-1gb", 1, 1024, 32, 1024, 6.0, "vhf"), ("voc-c-2c-4gb-50s-amd", 2, 4096, 50, 4096, 40.0, "voc"),
]
_OS = [(2136, "Debian 12 x64 (bookworm)", "x64", "debian"), (2284, "Ubuntu 24.04 LTS x64", "x64", "ubuntu"),
       (1743, "Ubuntu 22.04 LTS x64", "x64", "ubuntu"), (1869, "Rocky Linux 9 x64", "x64", "rockylinux"),
       (2076, "Alpine Linux x64", "x64", "alpinelinux"), (159, "Custom", "x64", "iso"),
       (164, "Snapshot", "x64", "snapshot"), (186, "Application", "x64", "application")]
_APPS = [(17, "Docker", "docker", "Docker on Ubuntu 22.04 x64", "one-click", "vultr", ""),
         (1028, "OpenLiteSpeed WordPress", "openlitespeedwordpress", "OpenLiteSpeed WordPress on Ubuntu 22.04 x64",
          "marketplace", "LiteSpeed_Technologies", "openlitespeed-wordpress")]


class VultrAPI(ProviderAPI):
    """A Vultr account behind ``https://api.vultr.com/v2``."""

    name = "vultr"
    auth = "bearer"
    messages: ClassVar[dict[int, str]] = {401: "Invalid API token.", 403: "Unauthorized IP address: 127.0.0.1",
                                          404: "Resource not found"}
    node_table = "instances"
    page_spec = PageSpec("per_page", 100, 500, clamp=False,
                         size_error="Invalid value for per_page: must be between 1 and 500.")
    routes = (
        ("GET", rf"{_V}/account", "get_account"),
        ("GET", rf"{_V}/instances", "list_instances"),
        ("POST", rf"{_V}/instances", "create_instance"),
        ("GET", rf"{_V}/instances/{_UUID}", "get_instance"),
        ("DELETE", rf"{_V}/instances/{_UUID}", "delete_instance"),
        ("POST", rf"{_V}/instances/{_UUID}/(start|reboot|halt)", "power_action"),
        ("POST", rf"{_V}/instances/{_UUID}/reinstall", "reinstall_instance"),
        ("GET", rf"{_V}/plans", "list_plans"),
        ("GET", rf"{_V}/os", "list_os"),
        ("GET", rf"{_V}/applications", "list_applications"),
        ("GET", rf"{_V}/regions", "list_regions"),
        ("GET", rf"{_V}/ssh-keys", "list_keys"),
        ("POST", rf"{_V}/ssh-keys", "create_key"),
        ("GET", rf"{_V}/ssh-keys/{_UUID}", "get_key"),
        ("DELETE", rf"{_V}/ssh-keys/{_UUID}", "delete_key"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instances: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Any]] = {}
        self._seq = 0
        self.regions = [{"id": rid, "city": city, "country": country, "continent": continent,
                         "options": ["ddos_protection", "block_storage_storage_opt", "kubernetes"]}
                        for rid, city, country, continent in _REGIONS]
        self.plans: dict[str, dict[str, Any]] = {pid: {
                            "id": pid, "vcpu_count": cpus, "ram": ram, "disk": disk, "disk_count": 1,
                            "bandwidth": bandwidth, "monthly_cost": monthly, "type": kind,
                            "locations": [r[0] for r in _REGIONS if kind != "voc" or r[0] in ("ewr", "fra")]}
                      for pid, cpus, ram, disk, bandwidth, monthly, kind in _PLANS}
        self.os = {oid: {"id": oid, "name": name, "arch": arch, "family": family} for oid, name, arch, family in _OS}
        self.apps = {aid: {"id": aid, "name": name, "short_name": short, "deploy_name": deploy, "type": kind,
                           "vendor": vendor, "image_id": image}
                     for aid, name, short, deploy, kind, vendor, image in _APPS}

    # -- provider conventions -------------------------------------------------------------------

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        return SimResponse(status, dumps({"error": message, "status": status}))

    def node_state(self, node: Any) -> str:
        """``status/power_status/server_status`` (e.g. ``active/stopped/ok``)."""
        return f"{node['status']}/{node['power_status']}/{node['server_status']}"

    def status_forced(self, node: Any, status: str) -> None:
        node["status"], node["power_status"], node["server_status"] = status.split("/")

    def page_window(self, request: SimRequest, total: int) -> Page:
        """Cursor paging: ``cursor`` is base64 of ``next__<offset>`` (or ``prev__``)."""
        assert self.page_spec is not None
        size, offset = self.page_size(request, self.page_spec), 0
        cursor = request.arg("cursor")
        if cursor:
            try:
                prefix, _, number = base64.b64decode(cursor, validate=True).decode().partition("__")
                offset = int(number)
            except (binascii.Error, ValueError, UnicodeDecodeError):
                self.fail(400, "Invalid cursor.")
            if prefix not in ("next", "prev") or offset < 0:
                self.fail(400, "Invalid cursor.")
        return OffsetPage(offset // size + 1, size, total, offset)

    def page_body(self, request: SimRequest, page: Page, items: bytes, **shape: Any) -> bytes:
        start, size = page.start, page.size
        nxt = _cursor("next", start + size) if start + size < page.total else ""
        prev = _cursor("prev", max(0, start - size)) if start > 0 else ""
        return keyed_list(shape["key"], items, meta={"total": page.total, "links": {"next": nxt, "prev": prev}})

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` running instances (``size``, ``image`` (an OS id) and ``region`` pick them)."""
        opts = seed_options(fields, {"size": "vc2-1c-1gb", "image": 2136, "region": "ewr"})
        plan, os_ = self.plans[opts["size"]], self.os[int(opts["image"])]

        def make(n: int) -> str:
            return str(self._add(f"{name_prefix}-{n}", plan, os_, None, opts["region"], [tag] if tag else [],
                                 ("active", "running", "ok"))["id"])

        return self.seeding(count, make)

    # -- helpers ------------------------------------------------------------------------------------

    def _add(self, label: str, plan: dict[str, Any], os_: dict[str, Any], app: dict[str, Any] | None,
             region: str, tags: list[str], state: tuple[str, str, str]) -> dict[str, Any]:
        self._seq += 1
        seq = self._seq
        ready = state[0] == "active"
        inst = {
            "id": str(uuid.UUID(int=(0xCB676A46 << 96) | seq)), "os": os_["name"], "ram": plan["ram"],
            "disk": plan["disk"], "main_ip": self.options.public_ip if ready else "0.0.0.0",
            "vcpu_count": plan["vcpu_count"], "region": region, "plan": plan["id"],
            "date_created": iso_now()[:-1] + "+00:00",
            "status": state[0], "power_status": state[1], "server_status": state[2],
            "allowed_bandwidth": plan["bandwidth"], "netmask_v4": "255.255.254.0" if ready else "",
            "gateway_v4": "192.0.2.1" if ready else "0.0.0.0", "v6_network": f"2001:db8:{seq:x}::" if ready else "",
            "v6_main_ip": f"2001:db8:{seq:x}::1" if ready else "", "v6_network_size": 64 if ready else 0,
            "label": label, "internal_ip": "", "kvm": f"https://my.vultr.com/subs/vps/novnc/api.php?data=sim{seq}",
            "hostname": label, "os_id": os_["id"], "app_id": app["id"] if app else 0, "image_id": "",
            "firewall_group_id": "", "features": [], "tags": tags, "user_scheme": "root",
        }
        self.instances[inst["id"]] = inst
        return inst

    def _instance(self, instance_id: str) -> dict[str, Any]:
        return self.found(self.instances, instance_id, "Invalid instance-id.")

    def _phase(self, inst: dict[str, Any], seconds: float, **fields: str) -> None:
        def apply() -> None:
            if inst["id"] in self.instances:
                inst.update(fields)
                self.changed()
        self.later(seconds, apply)

    # -- handlers -----------------------------------------------------------------------------------

    def get_account(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, {"account": {
            "name": "Sim User", "email": "simuser@example.com", "acls": ["subscriptions", "provisioning"],
            "balance": 0, "pending_charges": 0, "last_payment_date": "", "last_payment_amount": 0}})

    def list_instances(self, request: SimRequest) -> SimResponse:
        wanted = {k: request.arg(k) for k in ("label", "region", "main_ip") if request.arg(k)}
        tag = request.arg("tag")
        items = [i for i in self.instances.values() if all(i[k] == v for k, v in wanted.items())
                 and (not tag or tag in i["tags"])]
        return self.paged_list(request, items, key="instances")

    def get_instance(self, request: SimRequest, instance_id: str) -> SimResponse:
        return self.json_response(200, {"instance": self._instance(instance_id)})

    def create_instance(self, request: SimRequest) -> SimResponse:
        body = self.json_object(request, "Invalid JSON body.")
        plan, region = self.plans.get(str(body.get("plan"))), str(body.get("region"))
        if plan is None:
            self.fail(400, "Invalid plan chosen.")
        if region not in plan["locations"]:
            self.fail(400, "Invalid region chosen." if region not in {r["id"] for r in self.regions}
                      else "Plan is not available in the selected region.")
        app = self.apps.get(body["app_id"]) if "app_id" in body else None
        os_ = self.os.get(186) if app is not None else self.os.get(body.get("os_id"))  # type: ignore[arg-type]  # any JSON value: a miss is None
        if os_ is None or ("app_id" in body and app is None):
            self.fail(400, "Invalid OS or application chosen.")
        for key_id in body.get("sshkey_id") or []:
            if key_id not in self.keys:
                self.fail(400, f"Invalid SSH key: {key_id}")
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            self.fail(400, "tags must be an array of strings.")
        if "user_data" in body:
            try:
                base64.b64decode(str(body["user_data"]), validate=True)
            except binascii.Error:
                self.fail(400, "user_data must be base64 encoded.")
        label = str(body.get("label") or "")
        inst = self._add(label, plan, os_, app, region, tags, ("pending", "running", "none"))
        inst["hostname"] = str(body.get("hostname") or label or f"vultr-guest-{self._seq}")
        self.changed()
        boot, settle = self.options.boot_seconds, self.options.action_seconds
        self._phase(inst, boot, status="active", server_status="installingbooting", main_ip=self.options.public_ip,
                    netmask_v4="255.255.254.0", gateway_v4="192.0.2.1")
        self._phase(inst, boot + settle, server_status="ok")
        return self.json_response(202, {"instance": {**inst, "default_password": secrets.token_urlsafe(12)}})

    def delete_instance(self, request: SimRequest, instance_id: str) -> SimResponse:
        del self.instances[self._instance(instance_id)["id"]]
        self.changed()
        return self.empty(204)

    def power_action(self, request: SimRequest, instance_id: str, action: str) -> SimResponse:
        inst = self._instance(instance_id)
        if inst["status"] != "active":
            self.fail(400, "Unable to perform action: server is not active.")
        if action == "halt":
            inst.update(power_status="stopped")
        else:
            inst.update(power_status="running", server_status="installingbooting")
            self._phase(inst, self.options.action_seconds, server_status="ok")
        self.changed()
        return self.empty(204)

    def reinstall_instance(self, request: SimRequest, instance_id: str) -> SimResponse:
        inst = self._instance(instance_id)
        body = request.json() if request.body.strip() else {}
        if isinstance(body, dict) and body.get("hostname"):
            inst["hostname"] = str(body["hostname"])
        inst.update(power_status="running", server_status="installingbooting")
        self._phase(inst, self.options.boot_seconds, server_status="ok")
        self.changed()
        return self.json_response(202, {"instance": inst})

    def list_plans(self, request: SimRequest) -> SimResponse:
        kind = request.arg("type")
        plans = [p for p in self.plans.values() if kind in (None, "all", p["type"])]
        return self.paged_list(request, plans, key="plans")

    def list_os(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.os.values()), key="os")

    def list_applications(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.apps.values()), key="applications")

    def list_regions(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, self.regions, key="regions")

    def list_keys(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.keys.values()), key="ssh_keys")

    def get_key(self, request: SimRequest, key_id: str) -> SimResponse:
        return self.json_response(200, {"ssh_key": self.found(self.keys, key_id, "Invalid ssh-key-id.")})

    def create_key(self, request: SimRequest) -> SimResponse:
        body = self.json_object(request, "Invalid JSON body.")
        name, public = body.get("name"), body.get("ssh_key")
        if not isinstance(name, str) or not name:
            self.fail(400, "Invalid SSH key name.")
        try:
            parse_public_key(str(public))
        except Exception:
            self.fail(400, "Invalid SSH key.")
        key = {"id": str(uuid.uuid4()), "date_created": iso_now()[:-1] + "+00:00", "name": name,
               "ssh_key": str(public).strip()}
        self.keys[key["id"]] = key
        return self.json_response(201, {"ssh_key": key})

    def delete_key(self, request: SimRequest, key_id: str) -> SimResponse:
        del self.keys[self.found(self.keys, key_id, "Invalid ssh-key-id.")["id"]]
        return self.empty(204)


def _cursor(kind: str, at: int) -> str:
    return base64.b64encode(f"{kind}__{at}".encode()).decode()
