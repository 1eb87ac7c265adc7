"""The NephoScale driver class: identity, state map, catalogue, servers and power."""

from __future__ import annotations

import logging
from typing import ClassVar

from cloudkit.driver import ACTIONS, object_id
from cloudkit.drivers.nephoscale.connection import NephoscaleConnection
from cloudkit.drivers.nephoscale.create import NephoscaleCreate
from cloudkit.drivers.nephoscale.rules import _NUMERIC_RE, _check_hostname, _check_name
from cloudkit.errors import MalformedResponseError, NotFoundError, ValidationError
from cloudkit.models import Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.parsing import as_dict, as_list

log = logging.getLogger("cloudkit.drivers.nephoscale")

class NephoscaleNodeDriver(NephoscaleCreate):
    """NephoScale cloud servers over the NephoScale REST API."""

    name = "NephoScale"
    type = "nephoscale"
    website = "https://www.nephoscale.com"
    connectionCls = NephoscaleConnection
    credential_names: ClassVar[tuple[str, ...]] = ("USER", "PASSWORD")
    features: ClassVar[dict[str, list[str]]] = {"create_node": ["ssh_key", "password"]}

    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = {
        "on": NodeState.RUNNING,
        "off": NodeState.STOPPED,
        "unknown": NodeState.UNKNOWN,
    }
    # The API has no transitional states; power actions are asynchronous jobs.
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = {
        NodeState.RUNNING: frozenset({"reboot_node", "stop_node", "destroy_node"}),
        NodeState.STOPPED: frozenset({"start_node", "destroy_node"}),
        NodeState.UNKNOWN: frozenset(ACTIONS),
        NodeState.PENDING: frozenset({"destroy_node"}),
        NodeState.TERMINATED: frozenset(),
    }
    UNSUPPORTED: ClassVar[dict[str, str]] = {
        "ex_create_tag": "the NephoScale API has no tags",
        "ex_tag_node": "the NephoScale API has no tags",
        "ex_untag_node": "the NephoScale API has no tags",
        "ex_list_tags": "the NephoScale API has no tags",
        "ex_delete_tag": "the NephoScale API has no tags",
    }

    # -- catalogue ----------------------------------------------------------------------------

    def verify_credentials(self) -> bool:
        """List the zones (the smallest listing): True, or InvalidCredsError/ForbiddenError."""
        self._list("/datacenter/zone/", "nephoscale zones")
        return True

    def list_locations(self, ex_include_inactive: bool = True) -> list[NodeLocation]:
        """Every zone; ``ex_include_inactive=False`` leaves out those marked ``activated: false``."""
        zones = [self._to_location(z) for z in self._list("/datacenter/zone/", "nephoscale zones")]
        return [z for z in zones if ex_include_inactive or z.extra.get("activated") is not False]

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        """Server images (the API does not tell images apart by zone)."""
        return [self._to_image(i) for i in self._list("/image/server/", "nephoscale images")]

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Cloud server types, priced from pricing.json (the API has no prices)."""
        return [self._to_size(s) for s in self._list("/server/type/cloud/", "nephoscale sizes")]

    # -- nodes --------------------------------------------------------------------------------

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Cloud servers. NephoScale has no tags: with ``tag`` the result is filtered on the
        client (and so is empty)."""
        if tag is not None and (not isinstance(tag, str) or not tag.strip()):
            raise ValidationError("tag must be a non-empty string")
        nodes = [self._to_node(s) for s in self._list("/server/cloud/", "nephoscale servers")]
        return nodes if tag is None else [n for n in nodes if tag in n.tags]

    def get_node(self, node_id: str) -> Node:
        """One cloud server by id; NotFoundError when absent.

        Asks ``GET /server/cloud/{id}/`` (``data`` an object or a one-element array). No
        surviving client relied on that endpoint, so when it answers 404 or an unexpected
        shape the server is looked up in the listing before giving up. An id that is not a
        number cannot exist: NotFoundError at once, without a request.
        """
        ident = object_id(node_id, "node")
        if not _NUMERIC_RE.fullmatch(ident):
            raise NotFoundError(f"node {ident[:40]!r} not found: NephoScale server ids are numbers",
                                driver=self.name)
        try:
            body = as_dict(self._get(f"/server/cloud/{ident}/"), "nephoscale server")
            data = body.get("data")
            items = [data] if isinstance(data, dict) else as_list(data, "nephoscale server")
            for item in items:
                if isinstance(item, dict) and str(item.get("id")) == ident:
                    return self._to_node(item)
            raise NotFoundError(f"node {ident} not found", 404, driver=self.name)
        except (NotFoundError, MalformedResponseError) as exc:
            for node in self.list_nodes():
                if node.id == ident:
                    return node
            if isinstance(exc, NotFoundError):
                raise
            raise NotFoundError(f"node {ident} not found", 404, driver=self.name) from None

    def _power(self, node: Node | str, action: str, verb: str, ex_force: bool, idempotent: bool) -> bool:
        self._check_action(node, action, ex_force)
        ident = self._node_id(node)
        resp = self.connection.request(f"/server/cloud/{ident}/initiator/{verb}/", method="POST",
                                       idempotent=idempotent)
        job = self._job_reply(resp.object, f"{verb} server {ident}")
        log.debug("%s server %s: job %s", verb, ident, job)
        return True

    def reboot_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Restart a server (an asynchronous job)."""
        return self._power(node, "reboot_node", "restart", ex_force, idempotent=False)

    def start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Power a server on (an asynchronous job)."""
        return self._power(node, "start_node", "start", ex_force, idempotent=True)

    def stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Power a server off (an asynchronous job)."""
        return self._power(node, "stop_node", "stop", ex_force, idempotent=True)

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Delete a server (an asynchronous job; it then leaves the listing)."""
        self._check_action(node, "destroy_node", ex_force)
        ident = self._node_id(node)
        resp = self.connection.request(f"/server/cloud/{ident}/", method="DELETE")
        job = self._job_reply(resp.object, f"delete server {ident}")
        log.debug("delete server %s: job %s", ident, job)
        return True

    def ex_rename_node(self, node: Node | str, name: str, hostname: str | None = None) -> bool:
        """Rename a server (and optionally change its hostname)."""
        ident = self._node_id(node)
        form = {"name": _check_name(name),
                "hostname": _check_hostname(hostname) if hostname is not None else None}
        resp = self.connection.request(f"/server/cloud/{ident}/", data=form, method="PUT")
        self._job_reply(resp.object, f"rename server {ident}")
        return True
