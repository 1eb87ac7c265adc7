"""Hetzner Cloud driver for API v1 (``https://api.hetzner.cloud/v1``).

Bearer token; listings page with ``page``/``per_page`` (50 at most) and say how far they go in
``meta.pagination`` (``last_page``, ``total_entries``); errors are
``{"error": {"code", "message", "details"}}``; server changes are asynchronous actions
(``/actions/{id}``): an action returns True once accepted, or once done with ``ex_wait=True``.

The model: labels are tags (``key``, or ``key=value``; ``list_nodes(tag=...)`` sends a
``label_selector``); a size is a server type (``ram`` MB, ``disk`` GB, ``price`` the net hourly
price in EUR, ``extra["currency"]``, for the location asked for or else the first listed); images
are system, app, snapshot and backup images (x86 and arm); a location is a Hetzner location (data
centres: ``ex_list_datacenters``). Deprecated types and images are listed, marked in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from cloudkit import models, parsing
from cloudkit.connection import BearerTokenConnection
from cloudkit.driver import DEFAULT_NODE_ACTIONS, NodeDriver, object_id
from cloudkit.errors import ProviderError, ValidationError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.parsing import as_dict, obj_field, opt_float, opt_int, opt_obj, parse_datetime, parser, req, req_id
from cloudkit.response import JsonResponse

__all__ = ["HETZNER_STATE_MAP", "HetznerConnection", "HetznerNodeDriver", "HetznerResponse"]

#: Largest page the API hands out.
PAGE_SIZE = 50
CURRENCY = "EUR"

#: Every server ``status`` the API documents; a server being deleted is as good as gone.
HETZNER_STATE_MAP: dict[str, NodeState] = {
    "running": NodeState.RUNNING, "initializing": NodeState.PENDING, "starting": NodeState.STARTING,
    "stopping": NodeState.STOPPING, "off": NodeState.STOPPED, "deleting": NodeState.TERMINATED,
    "rebuilding": NodeState.PENDING, "migrating": NodeState.MIGRATING, "unknown": NodeState.UNKNOWN}

_REBUILD = frozenset({"ex_rebuild_node", "ex_power_off_node"})
HETZNER_NODE_ACTIONS: dict[NodeState, frozenset[str]] = {
    **DEFAULT_NODE_ACTIONS,
    NodeState.RUNNING: DEFAULT_NODE_ACTIONS[NodeState.RUNNING] | _REBUILD,
    NodeState.STOPPED: DEFAULT_NODE_ACTIONS[NodeState.STOPPED] | {"ex_rebuild_node"},
    NodeState.STOPPING: DEFAULT_NODE_ACTIONS[NodeState.STOPPING] | {"ex_power_off_node"},
    NodeState.MIGRATING: frozenset({"destroy_node"}),
    NodeState.UNKNOWN: DEFAULT_NODE_ACTIONS[NodeState.UNKNOWN] | _REBUILD,
}


class HetznerResponse(JsonResponse):
    """Hetzner answers ``{"error": {"code", "message", "details"}}`` on failure; an invalid
    input names its fields in ``details.fields``."""

    def parse_error(self) -> tuple[str, str | None]:
        body = self.json_error_body()
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            return self._fallback_message(), None
        message, code = error["message"], error.get("code")
        details = error.get("details")
        fields = details.get("fields") if isinstance(details, dict) else None
        if isinstance(fields, list):
            named = [f"{f.get('name')}: {'; '.join(map(str, f.get('messages') or []))}"
                     for f in fields if isinstance(f, dict) and f.get("name")]
            if named:
                message = f"{message} ({', '.join(named)})"
        return message, code if isinstance(code, str) else None


class HetznerConnection(BearerTokenConnection):
    """``Authorization: Bearer <token>`` to api.hetzner.cloud/v1."""

    host = "api.hetzner.cloud"
    base_path = "/v1"
    responseCls = HetznerResponse


def _page_items(key: str) -> Any:
    def extract(body: Any) -> list[Any]:
        return parsing.as_list(as_dict(body, f"Hetzner {key} listing").get(key), f"Hetzner {key} listing")
    return extract


def _pagination(body: Any) -> dict[str, Any]:
    meta = body.get("meta") if isinstance(body, dict) else None
    page = meta.get("pagination") if isinstance(meta, dict) else None
    return page if isinstance(page, dict) else {}


def _total_pages(body: Any, _size: int) -> int | None:
    return opt_int(_pagination(body).get("last_page"))


def _total_items(body: Any) -> int | None:
    return opt_int(_pagination(body).get("total_entries"))


def _labels_as_tags(labels: Any) -> list[str]:
    if not isinstance(labels, dict):
        return []
    return [f"{k}={v}" if v not in (None, "") else str(k) for k, v in labels.items()]


def _labels(tags: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    if isinstance(tags, str):
        raise ValidationError("ex_tags must be a list of tags ('key' or 'key=value'), not one string")
    labels = {}
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise ValidationError("a Hetzner tag must be a non-empty string ('key' or 'key=value')")
        key, _, value = tag.partition("=")
        labels[key.strip()] = value.strip()
    return labels


def _hourly(prices: Any, location: str | None) -> tuple[float | None, dict[str, float]]:
    by_location: dict[str, float] = {}
    for entry in prices if isinstance(prices, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("price_hourly"), dict):
            net = opt_float(entry["price_hourly"].get("net"))
            if net is not None and isinstance(entry.get("location"), str):
                by_location[entry["location"]] = net
    if location is not None:
        return by_location.get(location), by_location
    return next(iter(by_location.values()), None), by_location


class HetznerNodeDriver(NodeDriver):
    """Hetzner Cloud API v1: ``get_driver(Provider.HETZNER)(token)``."""

    name = "Hetzner Cloud"
    type = "hetzner"
    website = "https://www.hetzner.com/cloud"
    connectionCls = HetznerConnection
    credential_names: ClassVar[tuple[str, ...]] = ("TOKEN",)
    features: ClassVar[dict[str, list[str]]] = {"create_node": ["ssh_key", "generates_password"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = HETZNER_STATE_MAP
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = HETZNER_NODE_ACTIONS

    # -- helpers ------------------------------------------------------------------------------

    def _paged(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        return self.connection.paginate(path, _page_items(key), _total_pages, params=params,
                                        total_items=_total_items,
                                        page_size=self.connection.page_size or PAGE_SIZE)

    def _server_path(self, node: Node | str, suffix: str = "") -> str:
        server_id = object_id(node, "node")
        if not server_id.isascii() or not server_id.isdigit():
            raise ValidationError(f"a Hetzner server id is a number, not {server_id[:40]!r}")
        return f"/servers/{server_id}{suffix}"

    def _action(self, node: Node | str, action: str, command: str, ex_force: bool,
                data: Any = None, ex_wait: bool = False) -> dict[str, Any]:
        self._check_action(node, action, ex_force)
        body = self.connection.request(self._server_path(node, f"/actions/{command}"), data=data,
                                       method="POST").object
        self._check_failed(body)
        answer = as_dict(body, f"Hetzner {command} answer")
        if ex_wait and isinstance(answer.get("action"), dict):
            self.ex_wait_for_action(answer["action"].get("id"))
        return answer

    def _check_failed(self, body: Any) -> None:
        """An action the API reports as failed already (``status: error``) raises ProviderError."""
        action = body.get("action") if isinstance(body, dict) else None
        if isinstance(action, dict) and action.get("status") == "error":
            error = opt_obj(action.get("error")) or {}
            reason = error.get("message", "no reason given")
            raise ProviderError(f"Hetzner action {action.get('command')} failed: {reason}", 200,
                                code=error.get("code"), driver=self.name)

    # -- parsing ------------------------------------------------------------------------------

    @parser("Hetzner server")
    def _to_node(self, data: Any) -> Node:
        what = "Hetzner server"
        obj = as_dict(data, what)
        net, server_type, image = (obj_field(obj, key, what) for key in ("public_net", "server_type", "image"))
        datacenter = opt_obj(obj.get("datacenter")) or {}
        location = opt_obj(obj.get("location")) or opt_obj(datacenter.get("location")) or {}
        ipv4 = obj_field(net, "ipv4", what).get("ip")
        public, private = parsing.split_ips([ipv4] if isinstance(ipv4, str) else [])
        private += [p["ip"] for p in obj.get("private_net") or [] if isinstance(p, dict) and p.get("ip")]
        keys = ("status", "labels", "locked", "protection", "rescue_enabled", "primary_disk_size", "backup_window")
        extra = {key: obj.get(key) for key in keys}
        extra.update(server_type=server_type.get("name"), location=location.get("name"),
                     datacenter=datacenter.get("name"), ipv6_network=(opt_obj(net.get("ipv6")) or {}).get("ip"))
        size = self._to_size(server_type, location.get("name")) if server_type else None
        return Node(req_id(obj, "id", what), req(obj, "name", str, what), self._state(obj.get("status")),
                    public, private, self, size=size,
                    image=self._to_image(image) if image else None, extra=extra,
                    created_at=parse_datetime(obj.get("created")), tags=_labels_as_tags(obj.get("labels")))

    @parser("Hetzner server type")
    def _to_size(self, data: Any, location: str | None = None) -> NodeSize:
        what = "Hetzner server type"
        obj = as_dict(data, what)
        price, prices = _hourly(obj.get("prices"), location)
        memory = opt_float(obj.get("memory")) or 0.0
        extra = {
            "description": obj.get("description"), "cores": obj.get("cores"), "memory_gb": obj.get("memory"),
            "cpu_type": obj.get("cpu_type"), "storage_type": obj.get("storage_type"),
            "architecture": obj.get("architecture"), "category": obj.get("category"), "currency": CURRENCY,
            "prices": prices, "deprecated": bool(obj.get("deprecated")), "deprecation": obj.get("deprecation"),
            "locations": [loc.get("name") for loc in obj.get("locations") or [] if isinstance(loc, dict)],
        }
        return NodeSize(req_id(obj, "id", what), req(obj, "name", str, what), round(memory * 1024),
                        opt_int(obj.get("disk")) or 0, None, price, self, extra, vcpus=opt_int(obj.get("cores")))

    @parser("Hetzner image")
    def _to_image(self, data: Any) -> NodeImage:
        what = "Hetzner image"
        obj = as_dict(data, what)
        image_id = req_id(obj, "id", what)
        name = obj.get("name") or obj.get("description") or image_id
        keys = ("type", "status", "description", "os_flavor", "os_version", "architecture", "disk_size",
                "image_size", "rapid_deploy", "bound_to", "labels", "deprecated", "deleted")
        extra = {**{key: obj.get(key) for key in keys}, "created": parse_datetime(obj.get("created"))}
        return NodeImage(image_id, str(name), self, extra)

    @parser("Hetzner location")
    def _to_location(self, data: Any) -> NodeLocation:
        what = "Hetzner location"
        obj = as_dict(data, what)
        keys = ("description", "city", "network_zone", "latitude", "longitude")
        return NodeLocation(req(obj, "name", str, what), req(obj, "name", str, what), obj.get("country"), self,
                            {"id": req_id(obj, "id", what), **{key: obj.get(key) for key in keys}})

    @parser("Hetzner SSH key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        what = "Hetzner SSH key"
        obj = as_dict(data, what)
        return KeyPair(req(obj, "name", str, what), req(obj, "public_key", str, what), obj.get("fingerprint"),
                       self, id=req_id(obj, "id", what),
                       extra={"labels": obj.get("labels") or {}, "created": parse_datetime(obj.get("created"))})

    # -- the contract -------------------------------------------------------------------------

    def verify_credentials(self) -> bool:
        """GET /locations?per_page=1: True, or InvalidCredsError for a bad token."""
        as_dict(self.connection.request("/locations", {"per_page": 1}).object, "Hetzner locations")
        return True

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Every server; with ``tag`` (a label selector such as ``env=prod`` or ``web``), only the
        servers it selects (the API filters)."""
        if tag is not None and (not isinstance(tag, str) or not tag.strip()):
            raise ValidationError("tag must be a non-empty label selector")
        params = {"label_selector": tag} if tag is not None else None
        return [self._to_node(item) for item in self._paged("/servers", "servers", params)]

    def get_node(self, node_id: str) -> Node:
        """One server by id."""
        return self._to_node(self._member(self._server_path(node_id), "server"))

    def create_node(self, name: str, size: NodeSize | str, image: NodeImage | str,
                    location: NodeLocation | str | None = None,
                    auth: models.NodeAuthSSHKey | models.NodeAuthPassword | None = None, *,
                    ex_ssh_keys: Sequence[str] | None = None, ex_tags: Sequence[str] | Mapping[str, str] | None = None,
                    ex_user_data: str | None = None, ex_start_after_create: bool = True) -> Node:
        """Create a server (POST /servers). ``auth=NodeAuthSSHKey`` uses the stored key with that
        public key (storing it first when absent); ``ex_ssh_keys`` are key ids or names. Without
        keys the API generates a root password, returned once in ``node.extra["password"]``.
        ``ex_tags`` become labels; ``ex_user_data`` is cloud-init user data (plain text)."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("a Hetzner server name is a non-empty host name")
        body: dict[str, Any] = {"name": name, "server_type": object_id(size, "size"),
                                "image": object_id(image, "image"), "start_after_create": bool(ex_start_after_create)}
        if location is not None:
            body["location"] = object_id(location, "location")
        keys = [str(k) for k in ex_ssh_keys or []]
        if isinstance(auth, models.NodeAuthSSHKey):
            keys.insert(0, self._stored_key_id(auth.pubkey))
        elif isinstance(auth, models.NodeAuthPassword):
            raise ValidationError("Hetzner Cloud cannot set a root password; give an SSH key (or none, "
                                  "and the API generates a password)")
        elif auth is not None:
            raise ValidationError("auth must be a NodeAuthSSHKey")
        if keys:
            body["ssh_keys"] = keys
        if ex_tags is not None:
            body["labels"] = _labels(ex_tags)
        if ex_user_data is not None:
            body["user_data"] = ex_user_data
        response = self.connection.request("/servers", data=body, method="POST",
                                           outcome_hint=f"look for a server named {name!r} before trying again")
        answer = as_dict(response.object, "Hetzner create answer")
        self._check_failed(answer)
        node = self._to_node(answer.get("server"))
        if isinstance(answer.get("root_password"), str):
            node.extra["password"] = answer["root_password"]
        if isinstance(answer.get("action"), dict):
            node.extra["action_id"] = answer["action"].get("id")
        return node

    def reboot_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """POST .../actions/reboot (a soft reboot through ACPI)."""
        return bool(self._action(node, "reboot_node", "reboot", ex_force, ex_wait=ex_wait))

    def start_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """POST .../actions/poweron."""
        return bool(self._action(node, "start_node", "poweron", ex_force, ex_wait=ex_wait))

    def stop_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """POST .../actions/shutdown (graceful, through ACPI; ``ex_power_off_node`` cuts power)."""
        return bool(self._action(node, "stop_node", "shutdown", ex_force, ex_wait=ex_wait))

    def ex_power_off_node(self, node: Node | str, ex_force: bool = False, *, ex_wait: bool = False) -> bool:
        """POST .../actions/poweroff (like pulling the plug)."""
        return bool(self._action(node, "ex_power_off_node", "poweroff", ex_force, ex_wait=ex_wait))

    def ex_rebuild_node(self, node: Node | str, image: NodeImage | str, ex_force: bool = False) -> str | None:
        """Reinstall the server from ``image`` (its disk is wiped); returns the new root
        password when the API generated one (the server has no SSH key), else None."""
        answer = self._action(node, "ex_rebuild_node", "rebuild", ex_force, {"image": object_id(image, "image")})
        password = answer.get("root_password")
        return password if isinstance(password, str) else None

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """DELETE /servers/{id}."""
        self._check_action(node, "destroy_node", ex_force)
        self._check_failed(self.connection.request(self._server_path(node), method="DELETE").object)
        return True

    def ex_get_action(self, action_id: int | str) -> dict[str, Any]:
        """One action (``status`` running, success or error; ``progress`` 0..100)."""
        return self._member(f"/actions/{object_id(action_id, 'action')}", "action")

    def ex_wait_for_action(self, action_id: int | str, timeout: float = 600.0) -> dict[str, Any]:
        """The action once it is no longer running; ProviderError when it ended in ``error``."""
        def done() -> dict[str, Any] | None:
            self._check_failed({"action": (action := self.ex_get_action(action_id))})
            return action if action.get("status") != "running" else None
        return self.poll_until(done, timeout=timeout, interval=1.0, what=f"Hetzner action {action_id}")

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Server types; with ``location``, only those priced there, at that location's price."""
        where = object_id(location, "location") if location is not None else None
        sizes = [self._to_size(item, where) for item in self._paged("/server_types", "server_types")]
        return sizes if where is None else [s for s in sizes if where in s.extra["prices"]]

    def list_images(self, location: NodeLocation | str | None = None, *, ex_type: str | None = None,
                    ex_architecture: str | None = None) -> list[NodeImage]:
        """Every image (system, app, snapshot, backup; x86 and arm), or one type/architecture."""
        params = {k: v for k, v in (("type", ex_type), ("architecture", ex_architecture)) if v}
        return [self._to_image(item) for item in self._paged("/images", "images", params)]

    def list_locations(self) -> list[NodeLocation]:
        """Locations (id = the location name, e.g. ``fsn1``)."""
        return [self._to_location(item) for item in self._paged("/locations", "locations")]

    def ex_list_datacenters(self) -> list[dict[str, Any]]:
        """The data centres (``fsn1-dc14``...) as the API describes them."""
        return self._paged("/datacenters", "datacenters")

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored in the project."""
        return [self._to_key_pair(item) for item in self._paged("/ssh_keys", "ssh_keys")]

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store a public key under ``name`` (POST /ssh_keys)."""
        public_key = self._checked_public_key(name, key_material)
        body = {"name": name, "public_key": public_key}
        answer = self.connection.request("/ssh_keys", data=body, method="POST",
                                         outcome_hint=f"look for an SSH key named {name!r}").object
        return self._to_key_pair(as_dict(answer, "Hetzner SSH key answer").get("ssh_key"))

    def delete_key_pair(self, key_pair: KeyPair | str) -> bool:
        """Remove a stored key (a KeyPair, its id or its name)."""
        self.connection.request(f"/ssh_keys/{self._key_pair_id(key_pair)}", method="DELETE")
        return True
