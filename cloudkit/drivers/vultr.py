"""Vultr driver for API v2 (``https://api.vultr.com/v2``).

Bearer token; listings page by cursor (``per_page`` up to 500, ``meta.links.next`` names the next
page's cursor and is empty on the last one); errors are ``{"error": "...", "status": N}``; a 429
(30 requests a second at most) carries ``Retry-After``, which the base honours.

The model: node id = instance id (a UUID); a node's state reads ``status`` (the subscription:
pending, active, suspended, resizing), ``power_status`` (running, stopped) and ``server_status``
(none, locked, installingbooting, ok) together, as the customer portal does (see ``node_state``);
a size is a plan (``ram`` MB, ``disk`` GB, ``bandwidth`` GB a month, ``price`` the hourly USD
price: ``hourly_cost`` where the API gives it, else ``monthly_cost`` / 672, Vultr billing by
the hour up to 672 hours a month); images are operating systems (id = the OS id, ``387``) and
applications (id ``app:<app id>``); a location is a region (id ``ewr``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from cloudkit import models
from cloudkit.connection import BearerTokenConnection
from cloudkit.driver import DEFAULT_NODE_ACTIONS, NodeDriver, object_id
from cloudkit.errors import ValidationError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.paging import cursor_link
from cloudkit.parsing import as_dict, as_list, opt_float, opt_int, parse_datetime, parser, req, req_id, split_ips
from cloudkit.response import JsonResponse
from cloudkit.sshkeys import fingerprint_md5

__all__ = ["VultrConnection", "VultrNodeDriver", "VultrResponse", "node_state"]

#: Largest page the API hands out.
PAGE_SIZE = 500
#: Vultr bills by the hour up to this many hours a month (the monthly price).
HOURS_A_MONTH = 672
APP_PREFIX = "app:"

VULTR_NODE_ACTIONS: dict[NodeState, frozenset[str]] = {
    **DEFAULT_NODE_ACTIONS,
    NodeState.RUNNING: DEFAULT_NODE_ACTIONS[NodeState.RUNNING] | {"ex_reinstall_node"},
    NodeState.STOPPED: DEFAULT_NODE_ACTIONS[NodeState.STOPPED] | {"ex_reinstall_node"},
    NodeState.SUSPENDED: frozenset({"destroy_node"}),
    NodeState.RECONFIGURING: frozenset({"destroy_node"}),
    NodeState.UNKNOWN: DEFAULT_NODE_ACTIONS[NodeState.UNKNOWN] | {"ex_reinstall_node"},
}


def node_state(status: Any, power_status: Any, server_status: Any) -> NodeState:
    """The state a user reads from Vultr's three fields: the subscription first (``pending``:
    being created; ``suspended``; ``resizing``), then the power (``stopped``), then the server
    (``installingbooting``: starting; ``locked``: busy with a task; ``ok``: running)."""
    if status == "pending":
        return NodeState.PENDING
    if status == "suspended":
        return NodeState.SUSPENDED
    if status == "resizing":
        return NodeState.RECONFIGURING
    if status != "active":
        return NodeState.UNKNOWN
    if power_status == "stopped":
        return NodeState.STOPPED
    if power_status != "running":
        return NodeState.UNKNOWN
    return {"ok": NodeState.RUNNING, "installingbooting": NodeState.STARTING, "locked": NodeState.PENDING,
            "none": NodeState.PENDING}.get(server_status, NodeState.UNKNOWN)


class VultrResponse(JsonResponse):
    """Vultr answers ``{"error": "message", "status": N}`` on failure."""

    def parse_error(self) -> tuple[str, str | None]:
        body = self.json_error_body()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str) and error.strip():
            return error.strip(), None
        return self._fallback_message(), None


class VultrConnection(BearerTokenConnection):
    """``Authorization: Bearer <API key>`` to api.vultr.com/v2."""

    host = "api.vultr.com"
    base_path = "/v2"
    responseCls = VultrResponse


def _items(key: str) -> Callable[[Any], list[Any]]:
    def extract(body: Any) -> list[Any]:
        return as_list(as_dict(body, f"Vultr {key} listing").get(key), f"Vultr {key} listing")
    return extract


def _next_cursor(body: Any) -> Any:
    meta = body.get("meta") if isinstance(body, dict) else None
    links = meta.get("links") if isinstance(meta, dict) else None
    return links.get("next") if isinstance(links, dict) else None


def _ipv4(value: Any) -> str | None:
    return value if isinstance(value, str) and value and value != "0.0.0.0" else None


class VultrNodeDriver(NodeDriver):
    """Vultr API v2: ``get_driver(Provider.VULTR)(api_key)``."""

    name = "Vultr"
    type = "vultr"
    website = "https://www.vultr.com/"
    connectionCls = VultrConnection
    credential_names: ClassVar[tuple[str, ...]] = ("TOKEN",)
    demo_defaults: ClassVar[dict[str, str]] = {}
    features: ClassVar[dict[str, list[str]]] = {"create_node": ["ssh_key", "generates_password"]}
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = VULTR_NODE_ACTIONS

    # -- helpers ------------------------------------------------------------------------------

    def _listing(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every item of a cursor-paged listing (the next page asked for by its cursor)."""
        query = {"per_page": self.connection.page_size or PAGE_SIZE, **(params or {})}
        return self.connection.follow_links(path, _items(key),
                                            lambda body: cursor_link(path, _next_cursor(body), query),
                                            params=query)

    def _instance_path(self, node: Node | str, suffix: str = "") -> str:
        instance_id = object_id(node, "node")
        if "/" in instance_id or "?" in instance_id:
            raise ValidationError(f"not a Vultr instance id: {instance_id[:60]!r}")
        return f"/instances/{instance_id}{suffix}"

    def _action(self, node: Node | str, action: str, suffix: str, ex_force: bool) -> bool:
        self._check_action(node, action, ex_force)
        self.connection.request(self._instance_path(node, suffix), method="POST")
        return True

    # -- parsing ------------------------------------------------------------------------------

    @parser("Vultr instance")
    def _to_node(self, data: Any) -> Node:
        what = "Vultr instance"
        obj = as_dict(data, what)
        public, private = split_ips([ip for ip in (_ipv4(obj.get("main_ip")),) if ip])
        internal = _ipv4(obj.get("internal_ip"))
        keys = ("status", "power_status", "server_status", "plan", "region", "os", "os_id", "app_id", "image_id",
                "hostname", "vcpu_count", "ram", "disk", "allowed_bandwidth", "v6_main_ip", "v6_network",
                "v6_network_size", "features", "firewall_group_id", "default_password")
        extra = {key: obj.get(key) for key in keys if key in obj}
        if "default_password" in extra:
            extra["password"] = extra.pop("default_password")
        tags = [t for t in obj.get("tags") or [] if isinstance(t, str)]
        if not tags and isinstance(obj.get("tag"), str) and obj["tag"]:
            tags = [obj["tag"]]
        name = obj.get("label") or obj.get("hostname") or ""
        return Node(req(obj, "id", str, what), str(name),
                    node_state(obj.get("status"), obj.get("power_status"), obj.get("server_status")),
                    public, private + ([internal] if internal else []), self, extra=extra,
                    created_at=parse_datetime(obj.get("date_created")), tags=tags)

    @parser("Vultr plan")
    def _to_size(self, data: Any) -> NodeSize:
        what = "Vultr plan"
        obj = as_dict(data, what)
        monthly = opt_float(obj.get("monthly_cost"))
        hourly = opt_float(obj.get("hourly_cost"))
        if hourly is None and monthly is not None:
            hourly = round(monthly / HOURS_A_MONTH, 5)
        keys = ("type", "locations", "disk_count", "cpu_vendor", "gpu_type", "gpu_vram_gb", "invoice_type")
        extra = {"monthly_cost": monthly, "currency": "USD", **{key: obj.get(key) for key in keys if key in obj}}
        plan_id = req(obj, "id", str, what)
        return NodeSize(plan_id, str(obj.get("name") or plan_id), opt_int(obj.get("ram")) or 0,
                        opt_int(obj.get("disk")) or 0, opt_float(obj.get("bandwidth")), hourly, self, extra,
                        vcpus=opt_int(obj.get("vcpu_count")))

    @parser("Vultr operating system")
    def _to_os_image(self, data: Any) -> NodeImage:
        what = "Vultr operating system"
        obj = as_dict(data, what)
        return NodeImage(req_id(obj, "id", what), req(obj, "name", str, what), self,
                         {"kind": "os", "arch": obj.get("arch"), "family": obj.get("family")})

    @parser("Vultr application")
    def _to_app_image(self, data: Any) -> NodeImage:
        what = "Vultr application"
        obj = as_dict(data, what)
        keys = ("short_name", "deploy_name", "type", "vendor", "image_id")
        return NodeImage(APP_PREFIX + req_id(obj, "id", what), req(obj, "name", str, what), self,
                         {"kind": "application", "app_id": obj["id"], **{key: obj.get(key) for key in keys}})

    @parser("Vultr region")
    def _to_location(self, data: Any) -> NodeLocation:
        what = "Vultr region"
        obj = as_dict(data, what)
        region = req(obj, "id", str, what)
        return NodeLocation(region, str(obj.get("city") or region), obj.get("country"), self,
                            {"continent": obj.get("continent"), "options": obj.get("options") or []})

    @parser("Vultr SSH key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        what = "Vultr SSH key"
        obj = as_dict(data, what)
        public_key = req(obj, "ssh_key", str, what)
        try:
            fingerprint: str | None = fingerprint_md5(public_key)
        except ValidationError:
            fingerprint = None
        return KeyPair(req(obj, "name", str, what), public_key, fingerprint, self, id=req(obj, "id", str, what),
                       extra={"created": parse_datetime(obj.get("date_created"))})

    # -- the contract -------------------------------------------------------------------------

    def verify_credentials(self) -> bool:
        """GET /account: True, or InvalidCredsError for a bad API key."""
        self._member("/account", "account")
        return True

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Every instance; with ``tag``, those carrying it (the API filters; checked again here)."""
        params = None
        if tag is not None:
            if not isinstance(tag, str) or not tag:
                raise ValidationError("tag must be a non-empty string")
            params = {"tag": tag}
        nodes = [self._to_node(item) for item in self._listing("/instances", "instances", params)]
        return nodes if tag is None else [n for n in nodes if tag in n.tags]

    def get_node(self, node_id: str) -> Node:
        """One instance by id."""
        return self._to_node(self._member(self._instance_path(node_id), "instance"))

    def create_node(self, name: str, size: NodeSize | str, image: NodeImage | str,
                    location: NodeLocation | str | None = None,
                    auth: models.NodeAuthSSHKey | models.NodeAuthPassword | None = None, *,
                    ex_ssh_key_ids: Sequence[str] | None = None, ex_tags: Sequence[str] | None = None,
                    ex_user_data: str | bytes | None = None, ex_hostname: str | None = None,
                    ex_enable_ipv6: bool | None = None, ex_backups: bool | None = None) -> Node:
        """Create an instance (POST /instances). ``image`` is an OS id or ``app:<id>``;
        ``auth=NodeAuthSSHKey`` uses the stored key with that public key (storing it first
        when absent). The API generates the root password, returned once in
        ``node.extra["password"]``. ``ex_user_data`` is cloud-init user data (sent base64)."""
        if location is None:
            raise ValidationError("Vultr needs a location (region) to create an instance in")
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("a Vultr instance label must be a non-empty string")
        body: dict[str, Any] = {"region": object_id(location, "location"), "plan": object_id(size, "size"),
                                "label": name}
        image_id = object_id(image, "image")
        if image_id.startswith(APP_PREFIX):
            body["app_id"] = self._number(image_id[len(APP_PREFIX):], "application id")
        else:
            body["os_id"] = self._number(image_id, "operating system id")
        keys = [str(k) for k in ex_ssh_key_ids or []]
        if isinstance(auth, models.NodeAuthSSHKey):
            keys.insert(0, self._stored_key_id(auth.pubkey))
        elif isinstance(auth, models.NodeAuthPassword):
            raise ValidationError("Vultr cannot set a root password; give an SSH key (the API generates a password)")
        elif auth is not None:
            raise ValidationError("auth must be a NodeAuthSSHKey")
        if keys:
            body["sshkey_id"] = keys
        if ex_tags is not None:
            if isinstance(ex_tags, str) or not all(isinstance(t, str) and t for t in ex_tags):
                raise ValidationError("ex_tags must be a list of non-empty strings")
            body["tags"] = list(ex_tags)
        if ex_user_data is not None:
            raw = ex_user_data.encode("utf-8") if isinstance(ex_user_data, str) else ex_user_data
            body["user_data"] = base64.b64encode(raw).decode("ascii")
        for key, value in (("hostname", ex_hostname), ("enable_ipv6", ex_enable_ipv6)):
            if value is not None:
                body[key] = value
        if ex_backups is not None:
            body["backups"] = "enabled" if ex_backups else "disabled"
        response = self.connection.request("/instances", data=body, method="POST",
                                           outcome_hint=f"look for an instance labelled {name!r} before trying again")
        return self._to_node(as_dict(response.object, "Vultr create answer").get("instance"))

    @staticmethod
    def _number(text: str, what: str) -> int:
        if not text.isascii() or not text.isdigit():
            raise ValidationError(f"a Vultr {what} is a number, not {text[:40]!r}")
        return int(text)

    def reboot_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../reboot."""
        return self._action(node, "reboot_node", "/reboot", ex_force)

    def start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../start."""
        return self._action(node, "start_node", "/start", ex_force)

    def stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../halt (powers the instance off; it is still billed)."""
        return self._action(node, "stop_node", "/halt", ex_force)

    def ex_reinstall_node(self, node: Node | str, hostname: str | None = None, ex_force: bool = False) -> Node:
        """Reinstall the instance's operating system (its disk is wiped); returns the instance."""
        self._check_action(node, "ex_reinstall_node", ex_force)
        body = {"hostname": hostname} if hostname else None
        answer = self.connection.request(self._instance_path(node, "/reinstall"), data=body, method="POST").object
        return self._to_node(as_dict(answer, "Vultr reinstall answer").get("instance"))

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """DELETE /instances/{id}."""
        self._check_action(node, "destroy_node", ex_force)
        self.connection.request(self._instance_path(node), method="DELETE")
        return True

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Plans; with ``location``, those offered in that region."""
        sizes = [self._to_size(item) for item in self._listing("/plans", "plans")]
        if location is None:
            return sizes
        region = object_id(location, "location")
        return [s for s in sizes if region in (s.extra.get("locations") or [])]

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        """Operating systems, then applications (one-click and marketplace)."""
        images = [self._to_os_image(item) for item in self._listing("/os", "os")]
        return images + [self._to_app_image(item) for item in self._listing("/applications", "applications")]

    def list_locations(self) -> list[NodeLocation]:
        """Regions."""
        return [self._to_location(item) for item in self._listing("/regions", "regions")]

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored on the account."""
        return [self._to_key_pair(item) for item in self._listing("/ssh-keys", "ssh_keys")]

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store a public key under ``name`` (POST /ssh-keys)."""
        public_key = self._checked_public_key(name, key_material)
        answer = self.connection.request("/ssh-keys", data={"name": name, "ssh_key": public_key},
                                         method="POST", outcome_hint=f"look for an SSH key named {name!r}").object
        return self._to_key_pair(as_dict(answer, "Vultr SSH key answer").get("ssh_key"))

    def delete_key_pair(self, key_pair: KeyPair | str) -> bool:
        """Remove a stored key (a KeyPair, its id or its name)."""
        self.connection.request(f"/ssh-keys/{self._key_pair_id(key_pair)}", method="DELETE")
        return True
