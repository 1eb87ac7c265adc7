"""The Linode driver class: identity, state map, Linodes (list, get, create, power, resize...)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from cloudkit.driver import object_id
from cloudkit.drivers.linode.catalogue import LinodeCatalogue
from cloudkit.drivers.linode.connection import API, NEEDED_SCOPES, LinodeConnection, missing_scopes
from cloudkit.drivers.linode.disks import LinodeDisks
from cloudkit.drivers.linode.rules import (
    _IMAGE_ID,
    _SLUG,
    _login,
    _opt_flag,
    _opt_number,
    _string_list,
    _validate_root_pass,
    _validate_slug,
    _validate_tag,
    generate_root_password,
    validate_label,
)
from cloudkit.drivers.linode.storage import LinodeStorage
from cloudkit.errors import ForbiddenError, ValidationError
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.parsing import as_dict
from cloudkit.surface import alias

#: Every instance ``status`` the API documents (plus ``resizing``, seen from older API versions).
LINODE_STATE_MAP: dict[str, NodeState] = {
    "running": NodeState.RUNNING,
    "offline": NodeState.STOPPED,
    "stopped": NodeState.STOPPED,
    "booting": NodeState.STARTING,
    "rebooting": NodeState.REBOOTING,
    "shutting_down": NodeState.STOPPING,
    "provisioning": NodeState.PENDING,
    "busy": NodeState.PENDING,
    "rebuilding": NodeState.PENDING,
    "restoring": NodeState.PENDING,
    "cloning": NodeState.PENDING,
    "deleting": NodeState.PENDING,
    "migrating": NodeState.MIGRATING,
    "resizing": NodeState.RECONFIGURING,
    "billing_suspension": NodeState.SUSPENDED,
}

_ALWAYS = frozenset({"destroy_node", "ex_rename_node"})
#: Which actions make sense in which state (checked before any request; ``ex_force`` skips it).
#: Resize and rebuild work on a running or powered-off Linode (the API shuts it down itself)
#: but not while another job runs; start only when off; reboot and stop only when running.
LINODE_NODE_ACTIONS: dict[NodeState, frozenset[str]] = {
    NodeState.RUNNING: _ALWAYS | {"reboot_node", "stop_node", "ex_resize_node", "ex_rebuild_node"},
    NodeState.STOPPED: _ALWAYS | {"start_node", "ex_resize_node", "ex_rebuild_node"},
    NodeState.PENDING: _ALWAYS,
    NodeState.STARTING: _ALWAYS,
    NodeState.REBOOTING: _ALWAYS,
    NodeState.STOPPING: _ALWAYS,
    NodeState.MIGRATING: _ALWAYS,
    NodeState.RECONFIGURING: _ALWAYS,
    NodeState.SUSPENDED: _ALWAYS,
    NodeState.ERROR: _ALWAYS | {"reboot_node", "start_node", "stop_node"},
    NodeState.UNKNOWN: _ALWAYS | {"reboot_node", "start_node", "stop_node", "ex_resize_node",
                                  "ex_rebuild_node"},
    NodeState.TERMINATED: frozenset(),
}


class LinodeNodeDriver(LinodeStorage, LinodeDisks, LinodeCatalogue):
    """Linode API v4: ``get_driver(Provider.LINODE)(token)``."""

    name = "Linode"
    type = "linode"
    website = "https://www.linode.com/"
    connectionCls = LinodeConnection
    credential_names: ClassVar[tuple[str, ...]] = ("TOKEN",)
    features: ClassVar[dict[str, list[str]]] = {
        "create_node": ["ssh_key", "password", "generates_password"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = LINODE_STATE_MAP
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = LINODE_NODE_ACTIONS
    #: libcloud names this API "4.0"; the paths say "v4".
    API_VERSIONS: ClassVar[tuple[str, ...]] = ("v4", "4.0")

    # -- credentials --------------------------------------------------------------------------

    def verify_credentials(self) -> bool:
        """GET /v4/profile (allowed for every valid token): True, InvalidCredsError for a bad
        token, or ForbiddenError naming the OAuth scopes the token lacks (read from the
        ``X-OAuth-Scopes`` answer header; see ``NEEDED_SCOPES``)."""
        response = self.connection.request(API + "/profile")
        as_dict(response.object, "Linode profile")
        missing = missing_scopes(response.header("x-oauth-scopes"), NEEDED_SCOPES)
        if missing:
            granted = (response.header("x-oauth-scopes") or "").strip() or "none"
            raise ForbiddenError(
                f"the Linode token is valid but lacks the OAuth scopes the driver needs: "
                f"{', '.join(missing)} (the token has: {granted[:200]})", 403, driver=self.name)
        return True

    # -- nodes --------------------------------------------------------------------------------

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Every Linode (page_size 500, remaining pages concurrently). With ``tag``, the API
        filters (``X-Filter: {"tags": tag}``) and the result is checked again locally."""
        headers = None
        if tag is not None:
            if not isinstance(tag, str) or not tag:
                raise ValidationError("tag must be a non-empty string")
            headers = {"X-Filter": json.dumps({"tags": tag}, separators=(",", ":"))}
        nodes: list[Node] = self._paged("/linode/instances", headers, transform=self._to_node)
        if tag is not None:
            nodes = [n for n in nodes if tag in n.tags]
        return nodes

    def get_node(self, node_id: str) -> Node:
        """One Linode by id."""
        return self._to_node(self.connection.request(self._node_path(node_id)).object)

    def create_node(self, name: str | None, size: NodeSize | str, image: NodeImage | str | None,
                    location: NodeLocation | str | None = None,
    auth: NodeAuthSSHKey | NodeAuthPassword | None = None, *,
                    ex_authorized_keys: Sequence[str] | None = None,
                    ex_authorized_users: Sequence[str] | None = None,
                    ex_tags: Sequence[str] | None = None,
                    ex_private_ip: bool | None = None,
                    ex_booted: bool | None = None,
                    ex_backups_enabled: bool | None = None,
                    ex_stackscript_id: int | None = None,
                    ex_stackscript_data: Mapping[str, Any] | None = None,
                    ex_firewall_id: int | None = None,
                    ex_swap_size: int | None = None,
                    ex_user_data: str | bytes | None = None,
                    root_pass: str | None = None,
                    ex_userdata: str | None = None) -> Node:
        """Create a Linode (POST /v4/linode/instances) and return it (usually provisioning).

        ``auth``: ``NodeAuthSSHKey`` → ``authorized_keys``; ``NodeAuthPassword`` → ``root_pass``.
        With an image and no password a strong root password is generated and returned once
        in ``node.extra["password"]``. Every argument is checked before anything is sent.

        libcloud's keywords work too: ``root_pass`` (the root password, like
        ``auth=NodeAuthPassword(...)``) and ``ex_userdata`` (cloud-init user data already
        base64-encoded, sent as is; ``ex_user_data`` takes it unencoded). Positionally the
        order is cloudkit's ``(name, size, image, location)``, not libcloud's Linode
        ``(location, name, size, image)``.
        """
        if root_pass is not None:
            if auth is not None:
                raise ValidationError("give auth or root_pass, not both")
            auth = NodeAuthPassword(_validate_root_pass(root_pass))
        if ex_userdata is not None:
            if ex_user_data is not None:
                raise ValidationError("give ex_user_data (plain) or ex_userdata (base64), not both")
            try:
                ex_user_data = base64.b64decode(ex_userdata, validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise ValidationError("ex_userdata must be base64-encoded text (libcloud's meaning); "
                                      "pass plain text as ex_user_data") from None
        body: dict[str, Any] = {}
        if name is not None:
            body["label"] = validate_label(name)
        body["type"] = _validate_slug(object_id(size, "size"), "type", _SLUG)
        if location is None:
            raise ValidationError("Linode needs a location (region) to create a node in")
        body["region"] = _validate_slug(object_id(location, "location"), "region", _SLUG)
        keys, password = _login(auth, ex_authorized_keys)
        generated = False
        if image is not None:
            body["image"] = _validate_slug(object_id(image, "image"), "image", _IMAGE_ID)
            if password is None:
                password, generated = generate_root_password(), True
            body["root_pass"] = password
        elif password is not None or keys:
            raise ValidationError("a root password or SSH keys need an image to be deployed")
        if keys:
            body["authorized_keys"] = keys
        if ex_authorized_users is not None:
            body["authorized_users"] = _string_list(ex_authorized_users, "ex_authorized_users")
        if ex_tags is not None:
            body["tags"] = [_validate_tag(t) for t in _string_list(ex_tags, "ex_tags")]
        for key, flag in (("private_ip", ex_private_ip), ("booted", ex_booted),
                          ("backups_enabled", ex_backups_enabled)):
            if flag is not None:
                body[key] = _opt_flag(flag, f"ex_{key}")
        for key, number in (("stackscript_id", ex_stackscript_id), ("firewall_id", ex_firewall_id),
                            ("swap_size", ex_swap_size)):
            if number is not None:
                body[key] = _opt_number(number, f"ex_{key}")
        if ex_stackscript_data is not None:
            if not isinstance(ex_stackscript_data, Mapping):
                raise ValidationError("ex_stackscript_data must be a mapping of field name to value")
            body["stackscript_data"] = dict(ex_stackscript_data)
        if ex_user_data is not None:
            raw = ex_user_data.encode("utf-8") if isinstance(ex_user_data, str) else ex_user_data
            if not isinstance(raw, bytes):
                raise ValidationError("ex_user_data must be text or bytes")
            body["metadata"] = {"user_data": base64.b64encode(raw).decode("ascii")}
        hint = (f"look for a Linode labelled {name!r} before trying again" if name is not None
                else f"look for a new Linode in region {body['region']!r} before trying again")
        response = self.connection.request(f"{API}/linode/instances", data=body, method="POST",
                                           outcome_hint=hint)
        node = self._to_node(response.object)
        if generated:
            node.extra["password"] = password
        return node

    def _action(self, node: Node | str, action: str, suffix: str, ex_force: bool) -> bool:
        self._check_action(node, action, ex_force)
        self.connection.request(self._node_path(node, suffix), method="POST")
        return True

    def reboot_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../reboot."""
        return self._action(node, "reboot_node", "/reboot", ex_force)

    def start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../boot (power on with the last booted config)."""
        return self._action(node, "start_node", "/boot", ex_force)

    def stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """POST .../shutdown (Linode has no separate hard power-off)."""
        return self._action(node, "stop_node", "/shutdown", ex_force)

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """DELETE the Linode (disks, backups and IPs go with it)."""
        self._check_action(node, "destroy_node", ex_force)
        self.connection.request(self._node_path(node), method="DELETE")
        return True

    def ex_resize_node(self, node: Node | str, size: NodeSize | str, allow_auto_disk_resize: bool = True,
                       migration_type: str | None = None, ex_force: bool = False) -> bool:
        """POST .../resize to another type (``migration_type`` "cold" or "warm")."""
        self._check_action(node, "ex_resize_node", ex_force)
        body: dict[str, Any] = {
            "type": _validate_slug(object_id(size, "size"), "type", _SLUG),
            "allow_auto_disk_resize": _opt_flag(allow_auto_disk_resize, "allow_auto_disk_resize"),
        }
        if migration_type is not None:
            if migration_type not in ("cold", "warm"):
                raise ValidationError("migration_type must be 'cold' or 'warm'")
            body["migration_type"] = migration_type
        self.connection.request(self._node_path(node, "/resize"), data=body, method="POST")
        return True

    def ex_rebuild_node(self, node: Node | str, image: NodeImage | str,
                        auth: NodeAuthSSHKey | NodeAuthPassword | None = None, *,
                        ex_authorized_keys: Sequence[str] | None = None,
                        ex_authorized_users: Sequence[str] | None = None,
                        ex_booted: bool | None = None, ex_force: bool = False) -> Node:
        """POST .../rebuild: wipe the disks and deploy ``image``. Like create_node, a root
        password is generated when none is given (returned once in ``extra["password"]``)."""
        self._check_action(node, "ex_rebuild_node", ex_force)
        body: dict[str, Any] = {"image": _validate_slug(object_id(image, "image"), "image", _IMAGE_ID)}
        keys, password = _login(auth, ex_authorized_keys)
        generated = password is None
        body["root_pass"] = password = password or generate_root_password()
        if keys:
            body["authorized_keys"] = keys
        if ex_authorized_users is not None:
            body["authorized_users"] = _string_list(ex_authorized_users, "ex_authorized_users")
        if ex_booted is not None:
            body["booted"] = _opt_flag(ex_booted, "ex_booted")
        path = self._node_path(node, "/rebuild")
        result = self._to_node(self.connection.request(path, data=body, method="POST").object)
        if generated:
            result.extra["password"] = password
        return result

    def ex_rename_node(self, node: Node | str, name: str, ex_force: bool = False) -> Node:
        """PUT the Linode's label; returns the updated node."""
        self._check_action(node, "ex_rename_node", ex_force)
        body = {"label": validate_label(name)}
        return self._to_node(self.connection.request(self._node_path(node), data=body, method="PUT").object)

    # -- libcloud's names for the same things ---------------------------------------------------

    def ex_get_node(self, node_id: Node | str) -> Node:
        """libcloud's name for ``get_node``."""
        return self.get_node(object_id(node_id, "node"))

    def ex_start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for ``start_node``."""
        return self.start_node(node, ex_force)

    def ex_stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """libcloud's name for ``stop_node``."""
        return self.stop_node(node, ex_force)

    def get_image(self, image_id: NodeImage | str | None = None, image: NodeImage | str | None = None) -> NodeImage:
        """One image by id (``linode/debian12``); ``image=`` is libcloud's Linode name."""
        return self.ex_get_image(alias(image_id, image, "image_id", "image"))
