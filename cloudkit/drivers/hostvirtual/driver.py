"""The HostVirtual driver class: identity, state map, listings, power, packages, SSH keys."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from cloudkit.driver import ACTIONS, object_id
from cloudkit.drivers.hostvirtual.connection import HostVirtualConnection, _describe
from cloudkit.drivers.hostvirtual.create import HostVirtualCreate
from cloudkit.drivers.hostvirtual.rules import _NO_TAGS, _check_fqdn, _location_sort_key, _reply_ok
from cloudkit.errors import (
    CloudkitError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    ProviderError,
    ValidationError,
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
from cloudkit.sshkeys import fingerprint_md5, parse_public_key

log = logging.getLogger("cloudkit.drivers.hostvirtual")

#: HostVirtual ``status`` → NodeState (fact sheet §6; choices explained in the module doc).
NODE_STATE_MAP: dict[str, NodeState] = {
    "BUILDING": NodeState.PENDING,
    "PENDING": NodeState.PENDING,
    "RUNNING": NodeState.RUNNING,
    "STARTING": NodeState.STARTING,
    "STOPPING": NodeState.STOPPING,
    "REBOOTING": NodeState.REBOOTING,
    "STOPPED": NodeState.STOPPED,
    "TERMINATED": NodeState.TERMINATED,
    "TERMINATING": NodeState.TERMINATED,
    "ERROR": NodeState.ERROR,
}

_ALL_ACTIONS = frozenset(ACTIONS) | {"ex_delete_node", "ex_build_node"}

#: Which actions make sense in which state. A TERMINATED server is an uninstalled OS on a
#: package that is still billed: it can be cancelled (destroy_node) or rebuilt.
NODE_ACTIONS: dict[NodeState, frozenset[str]] = {
    NodeState.RUNNING: frozenset({"reboot_node", "stop_node", "destroy_node", "ex_delete_node"}),
    NodeState.STOPPED: frozenset({"start_node", "destroy_node", "ex_delete_node"}),
    NodeState.PENDING: frozenset({"destroy_node"}),
    NodeState.STARTING: frozenset({"destroy_node"}),
    NodeState.STOPPING: frozenset({"destroy_node"}),
    NodeState.REBOOTING: frozenset({"destroy_node"}),
    NodeState.TERMINATED: frozenset({"destroy_node", "ex_build_node"}),
    NodeState.ERROR: _ALL_ACTIONS,
    NodeState.UNKNOWN: _ALL_ACTIONS,
}


class HostVirtualNodeDriver(HostVirtualCreate):
    """HostVirtual (VR) vapi v1: ``get_driver(Provider.HOSTVIRTUAL)(api_key)``."""

    name = "HostVirtual"
    type = "hostvirtual"
    website = "https://www.hostvirtual.com"
    connectionCls = HostVirtualConnection
    credential_names: ClassVar[tuple[str, ...]] = ("KEY",)
    demo_defaults: ClassVar[dict[str, str]] = {"name": "cloudkit-demo-1.example.com"}
    features: ClassVar[dict[str, list[str]]] = {
        "create_node": ["ssh_key", "password", "generates_password"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = NODE_STATE_MAP
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = NODE_ACTIONS
    UNSUPPORTED: ClassVar[dict[str, str]] = {
        "ex_create_tag": _NO_TAGS,
        "ex_tag_node": _NO_TAGS,
        "ex_untag_node": _NO_TAGS,
        "ex_list_tags": _NO_TAGS,
        "ex_delete_tag": _NO_TAGS,
    }

    # -- listings -------------------------------------------------------------------------

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Every server on the account (HostVirtual has no tags: ``tag`` matches nothing)."""
        if tag is not None and (not isinstance(tag, str) or not tag):
            raise ValidationError("tag must be a non-empty string")
        nodes = [self._to_node(item) for item in self._list("/cloud/servers/")]
        return nodes if tag is None else [node for node in nodes if tag in node.tags]

    def get_node(self, node_id: str) -> Node:
        """One server by package id (``mbpkgid``); NotFoundError when it has no server record."""
        wanted = self._id(node_id, "node")
        try:
            body = self.connection.request("/cloud/server", params={"mbpkgid": wanted}).object
        except ValidationError as exc:
            if exc.status == 412:  # a package without a server record (not built yet)
                raise NotFoundError(f"node {wanted} not found: {exc.message}", exc.status, code=exc.code,
                                    driver=self.name) from None
            raise
        if isinstance(body, list):  # some deployments answer a one-element array
            if not body:
                raise NotFoundError(f"node {wanted} not found", 404, driver=self.name)
            body = body[0]
        return self._to_node(body)

    def verify_credentials(self) -> bool:
        """List the servers (the cheapest call that needs a valid key); True when accepted."""
        self._list("/cloud/servers/")
        return True

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Plans, with the hourly price derived from the monthly one."""
        params = {"location": self._id(location, "location")} if location is not None else None
        sizes = [self._to_size(item) for item in self._list("/cloud/sizes/", params)]
        if params:
            for size in sizes:
                size.extra["location"] = params["location"]
        return sizes

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        """Operating systems a package can be built with (the same everywhere)."""
        return [self._to_image(item) for item in self._list("/cloud/images/")]

    def list_locations(self) -> list[NodeLocation]:
        """Data centres, sorted by id (both the keyed-object and the older array reply)."""
        body = self.connection.request("/cloud/locations/").object
        if body is None:
            return []
        if isinstance(body, dict):
            pairs: list[tuple[Any, Any]] = list(body.items())
        elif isinstance(body, list):
            pairs = [(None, item) for item in body]
        else:
            raise MalformedResponseError(
                f"location listing: expected an object or an array, got {type(body).__name__}",
                driver=self.name)
        locations = [self._to_location(value, key) for key, value in pairs]
        return sorted(locations, key=_location_sort_key)

    # -- power and lifecycle --------------------------------------------------------------

    def reboot_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Reboot (``ex_force`` also skips the state check and asks for a hard reboot)."""
        self._check_action(node, "reboot_node", ex_force)
        return self._post("/cloud/server/reboot", self._id(node, "node"), {"force": 1 if ex_force else 0})

    def start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Power a stopped server on."""
        self._check_action(node, "start_node", ex_force)
        return self._post("/cloud/server/start", self._id(node, "node"))

    def stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Shut a server down (``ex_force``: hard power-off, and no state check)."""
        self._check_action(node, "stop_node", ex_force)
        return self._post("/cloud/server/shutdown", self._id(node, "node"), {"force": 1 if ex_force else 0})

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Stop the server if it runs, cancel its package (ends billing; permanent), unlink it.

        Stopping and unlinking are best effort; the cancel is what counts and its failure
        is raised.
        """
        self._check_action(node, "destroy_node", ex_force)
        node_id = self._id(node, "node")
        current = node if isinstance(node, Node) else self._peek(node_id)
        if current is not None and current.state not in (
                NodeState.STOPPED, NodeState.TERMINATED, NodeState.PENDING, NodeState.STOPPING):
            self._best_effort("stop", "/cloud/server/shutdown", node_id, {"force": 1})
        self._post("/cloud/cancel", node_id)
        self._best_effort("unlink", "/cloud/unlink", node_id)
        log.info("package %s cancelled", node_id)
        return True

    def _peek(self, node_id: str) -> Node | None:
        try:
            return self.get_node(node_id)
        except CloudkitError:
            return None

    def _best_effort(self, what: str, action: str, node_id: str,
                     extra: Mapping[str, Any] | None = None) -> bool:
        try:
            return self._post(action, node_id, extra)
        except (ProviderError, NetworkError) as exc:
            log.info("%s of package %s did not succeed (%s); carrying on", what, node_id, _describe(exc))
            return False

    # -- HostVirtual extras ---------------------------------------------------------------

    def ex_list_packages(self) -> list[dict[str, Any]]:
        """Every package (plan slot) on the account, built or not, as the API gives them."""
        return [self._to_package(item) for item in self._list("/cloud/packages")]

    def ex_get_package(self, package_id: Node | str) -> dict[str, Any]:
        """One package by id."""
        wanted = self._id(package_id, "package")
        return self._to_package(self.connection.request(f"/cloud/package/{wanted}").object)

    def ex_order_package(self, size: NodeSize | str) -> str:
        """Order (and start paying for) a package of plan ``size``; returns its id."""
        return self._order(self._resolve_plan(size)[1])

    def ex_build_node(self, node: Node | str, image: NodeImage | str,
                      location: NodeLocation | str | None = None,
    auth: NodeAuthSSHKey | NodeAuthPassword | None = None, *,
                      name: str | None = None, ex_ssh_key_id: str | None = None,
                      ex_force: bool = False) -> str | None:
        """Build (install) ``image`` on an existing package: a new order or a TERMINATED
        server. Returns the build job id when the API gives one."""
        self._check_action(node, "ex_build_node", ex_force)
        node_id = self._id(node, "node")
        existing = node if isinstance(node, Node) else None
        fqdn = _check_fqdn(name if name is not None else existing.name if existing else None)
        if location is not None:
            location_id = self._id(location, "location")
        elif existing is not None and existing.extra.get("location"):
            location_id = self._id(existing.extra["location"], "location")
        else:
            raise ValidationError("location is required to build a package that is not a Node "
                                  "with a known location")
        auth_fields, _ = self._auth_fields(auth, ex_ssh_key_id, generate=False)
        return self._build({"mbpkgid": node_id, "fqdn": fqdn, "image": self._id(image, "image"),
                            "location": location_id, **auth_fields}, fqdn)

    def ex_delete_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Uninstall the OS but keep (and keep paying for) the package: it becomes TERMINATED."""
        self._check_action(node, "ex_delete_node", ex_force)
        return self._post("/cloud/server/delete", self._id(node, "node"))

    def ex_cancel_package(self, package: Node | str) -> bool:
        """Cancel a package: billing ends, permanently."""
        return self._post("/cloud/cancel", self._id(package, "package"))

    def ex_unlink_package(self, package: Node | str) -> bool:
        """Release the location and IPs of an uninstalled package."""
        return self._post("/cloud/unlink", self._id(package, "package"))

    def ex_get_job(self, node: Node | str, job_id: str) -> dict[str, Any]:
        """A server job (e.g. the build's ``extra["job_id"]``): ``status`` 5 is success,
        6 failure, 3 or less still working; ``done``/``succeeded`` say so."""
        params = {"mbpkgid": self._id(node, "node"), "job_id": self._id(job_id, "job")}
        return self._to_job(self.connection.request("/cloud/serverjob", params=params).object)

    # -- SSH keys -------------------------------------------------------------------------

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored on the account."""
        return [self._to_key_pair(item) for item in self._list("/server/sshkeys")]

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store a public key under ``name``."""
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ValidationError("key pair name must be a non-empty string of at most 255 characters")
        parse_public_key(key_material)
        material = key_material.strip()
        body = self.connection.request(
            "/server/sshkeys", data={"name": name, "ssh_key": material}, method="POST",
            outcome_hint=f"look for a key named {name!r} with list_key_pairs() before trying again").object
        if isinstance(body, dict) and "id" in body:
            return self._to_key_pair({"name": name, "ssh_key": material, **body})
        _reply_ok(body, "SSH key import", self.name)
        return KeyPair(name, material, fingerprint_md5(material), self)

    def delete_key_pair(self, key_pair: KeyPair | str) -> bool:
        """Remove a stored key (found by name when the KeyPair has no id)."""
        if isinstance(key_pair, KeyPair) and key_pair.id:
            key_id = key_pair.id
        else:
            wanted = key_pair.name if isinstance(key_pair, KeyPair) else object_id(key_pair, "key pair")
            key_id = self.get_key_pair(wanted).id or wanted
        key_id = self._id(key_id, "key pair")
        body = self.connection.request(f"/server/sshkeys/{key_id}", method="DELETE").object
        return _reply_ok(body, f"deleting SSH key {key_id}", self.name)
