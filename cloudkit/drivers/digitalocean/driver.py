"""The DigitalOcean driver class: identity, state map, droplets (list, get, create, destroy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from cloudkit.driver import ACTIONS, DEFAULT_NODE_ACTIONS, object_id
from cloudkit.drivers.digitalocean.actions import DropletActions
from cloudkit.drivers.digitalocean.catalogue import DigitalOceanCatalogue
from cloudkit.drivers.digitalocean.connection import DigitalOceanConnection
from cloudkit.drivers.digitalocean.rules import (
    _MAX_NAME,
    _MAX_USER_DATA,
    _check_bool,
    _check_name,
    _check_tag,
    _merge_create_attr,
)
from cloudkit.drivers.digitalocean.storage import DigitalOceanStorage
from cloudkit.errors import NotFoundError, ValidationError
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

_RUNNING_ACTIONS = frozenset({"reboot_node", "stop_node", "destroy_node", "ex_power_cycle_node",
                              "ex_rebuild_node", "ex_rename_node"})
_STOPPED_ACTIONS = frozenset({"start_node", "destroy_node", "ex_resize_node", "ex_rebuild_node",
                              "ex_rename_node"})
_EX_ACTIONS = ("ex_power_cycle_node", "ex_rebuild_node", "ex_rename_node", "ex_resize_node")


class DigitalOceanNodeDriver(DigitalOceanStorage, DropletActions, DigitalOceanCatalogue):
    """DigitalOcean droplets through API v2."""

    name = "DigitalOcean"
    type = "digitalocean"
    website = "https://www.digitalocean.com"
    connectionCls = DigitalOceanConnection
    credential_names: ClassVar[tuple[str, ...]] = ("TOKEN",)
    features: ClassVar[dict[str, list[str]]] = {"create_node": ["ssh_key"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = {
        "new": NodeState.PENDING,
        "active": NodeState.RUNNING,
        "off": NodeState.STOPPED,
        "archive": NodeState.TERMINATED,
    }
    #: What each state allows: start only when off, reboot/stop/power-cycle only when running,
    #: resize only when off (DigitalOcean refuses to resize a running droplet), rename and
    #: rebuild in either, destroy also while new, nothing once archived.
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = {
        **DEFAULT_NODE_ACTIONS,
        NodeState.RUNNING: _RUNNING_ACTIONS,
        NodeState.STOPPED: _STOPPED_ACTIONS,
        NodeState.PENDING: frozenset({"destroy_node"}),
        NodeState.TERMINATED: frozenset(),
        NodeState.UNKNOWN: frozenset(ACTIONS) | frozenset(_EX_ACTIONS),
    }
    API_VERSIONS: ClassVar[tuple[str, ...]] = ("v2",)

    # -- nodes ------------------------------------------------------------------------------

    def node_actions(self, node: Node) -> frozenset[str]:
        """The actions ``node``'s state allows; none while the droplet is ``locked`` (an action
        is running on it, and DigitalOcean refuses every other until it ends)."""
        if node.extra.get("locked") is True:
            return frozenset()
        return super().node_actions(node)

    def list_nodes(self, tag: str | None = None, ex_type: str | None = None) -> list[Node]:
        """Every droplet, GPU droplets included (only those tagged ``tag``, filtered by the API,
        when given).

        The API lists GPU droplets only when asked with ``type=gpus``, so both listings are
        fetched, concurrently; ``ex_type="droplets"`` or ``"gpus"`` asks for one kind only.
        The API cannot combine a tag with a type: with ``tag``, its one tag listing is used.
        """
        if ex_type not in (None, "droplets", "gpus"):
            raise ValidationError(f"ex_type must be 'droplets' or 'gpus', not {ex_type!r}")
        if tag is not None:
            if ex_type is not None:
                raise ValidationError("DigitalOcean cannot filter droplets by tag and type at once")
            return self._list("/v2/droplets", "droplets", {"tag_name": _check_tag(tag)}, self._to_node)
        if ex_type is not None:
            return self._list("/v2/droplets", "droplets", {"type": ex_type}, self._to_node)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cloudkit-gpus") as pool:
            gpus = pool.submit(self._list, "/v2/droplets", "droplets", {"type": "gpus"}, self._to_node)
            nodes: list[Node] = self._list("/v2/droplets", "droplets", None, self._to_node)
            listed = {node.id for node in nodes}
            nodes.extend(node for node in gpus.result() if node.id not in listed)
        return nodes

    def get_node(self, node_id: str) -> Node:
        """One droplet by id; NotFoundError when it does not exist (at once, without a request,
        for an id that is not a number: no droplet can have it)."""
        wanted = object_id(node_id, "node")
        if not wanted.isdigit():
            raise NotFoundError(f"droplet {wanted[:40]!r} not found: droplet ids are numbers", None,
                                driver=self.name)
        return self._to_node(self._member(f"/v2/droplets/{wanted}", "droplet"))

    def create_node(
        self,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str,
        location: NodeLocation | str | None = None,
        auth: NodeAuthSSHKey | NodeAuthPassword | None = None,
        *,
        ex_ssh_keys: Sequence[int | str | KeyPair] | None = None,
        ex_user_data: str | None = None,
        ex_tags: Sequence[str] | None = None,
        ex_vpc_uuid: str | None = None,
        ex_ipv6: bool | None = None,
        ex_monitoring: bool | None = None,
        ex_backups: bool | None = None,
        ex_volumes: Sequence[str] | None = None,
        ex_create_attr: Mapping[str, Any] | None = None,
        ex_ssh_key_ids: Sequence[int | str] | None = None,
        ex_private_networking: bool | None = None,
    ) -> Node:
        """Create a droplet; the node comes back ``pending`` with no addresses yet.

        ``size``, ``image`` and ``location`` take model objects or their ids/slugs (an image
        by numeric id or slug). ``auth=NodeAuthSSHKey(pubkey)`` makes sure the key is on the
        account (found by its fingerprint, imported otherwise) and installs it; ``ex_ssh_keys``
        adds keys already on the account (ids, fingerprints or KeyPair objects). Everything is
        checked before any request is sent. ``node.extra["action_id"]`` is the create action.

        libcloud's ``ex_create_attr`` (a dict of request fields: ``backups``, ``ipv6``,
        ``private_networking``, ``tags``, ``ssh_keys``, ``monitoring``, ``user_data``,
        ``vpc_uuid``, ``volumes``) and ``ex_ssh_key_ids`` (key ids, like ``ex_ssh_keys``) work
        too; a field given both ways, or one the API does not take, is refused.
        """
        if ex_create_attr:
            given = {"backups": ex_backups, "ipv6": ex_ipv6, "private_networking": ex_private_networking,
                     "tags": ex_tags, "ssh_keys": ex_ssh_keys, "monitoring": ex_monitoring,
                     "user_data": ex_user_data, "vpc_uuid": ex_vpc_uuid, "volumes": ex_volumes}
            merged = _merge_create_attr(ex_create_attr, given)
            ex_backups, ex_ipv6, ex_private_networking = (merged["backups"], merged["ipv6"],
                                                          merged["private_networking"])
            ex_tags, ex_ssh_keys, ex_monitoring = merged["tags"], merged["ssh_keys"], merged["monitoring"]
            ex_user_data, ex_vpc_uuid, ex_volumes = merged["user_data"], merged["vpc_uuid"], merged["volumes"]
        if ex_ssh_key_ids is not None:
            ex_ssh_keys = [*self._sequence(ex_ssh_keys, "ex_ssh_keys"),
                           *self._sequence(ex_ssh_key_ids, "ex_ssh_key_ids")]
        body: dict[str, Any] = {"name": _check_name(name), "size": self._size_slug(size),
                                "image": self._image_ref(image)}
        if location is not None:
            body["region"] = self._region_slug(location)
        keys: list[int | str] = [self._key_ref(k) for k in self._sequence(ex_ssh_keys, "ex_ssh_keys")]
        pubkey: str | None = None
        if isinstance(auth, NodeAuthSSHKey):
            parse_public_key(auth.pubkey)
            pubkey = auth.pubkey.strip()
        elif isinstance(auth, NodeAuthPassword):
            raise ValidationError("DigitalOcean does not set root passwords at create time; "
                                  "use auth=NodeAuthSSHKey(...) or ex_ssh_keys")
        elif auth is not None:
            raise ValidationError("auth must be a NodeAuthSSHKey")
        if ex_user_data is not None:
            if not isinstance(ex_user_data, str):
                raise ValidationError("ex_user_data must be a string")
            if len(ex_user_data.encode("utf-8")) > _MAX_USER_DATA:
                raise ValidationError(f"ex_user_data is larger than {_MAX_USER_DATA} bytes")
            body["user_data"] = ex_user_data
        if ex_tags is not None:
            body["tags"] = [_check_tag(t) for t in self._sequence(ex_tags, "ex_tags")]
        if ex_vpc_uuid is not None:
            body["vpc_uuid"] = self._check_uuid(ex_vpc_uuid)
        if ex_volumes is not None:
            volumes = list(self._sequence(ex_volumes, "ex_volumes"))
            body["volumes"] = [self._check_uuid(v, "volume id") for v in volumes]
        for field_name, value in (("ipv6", ex_ipv6), ("monitoring", ex_monitoring), ("backups", ex_backups),
                                  ("private_networking", ex_private_networking)):
            flag = _check_bool(value, f"ex_{field_name}")
            if flag is not None:
                body[field_name] = flag
        if pubkey is not None:
            key_ref = self._ensure_ssh_key(pubkey)
            if key_ref not in keys:
                keys.append(key_ref)
        if keys:
            body["ssh_keys"] = keys
        response = self.connection.request(
            "/v2/droplets", data=body, method="POST",
            outcome_hint=f"look for a droplet named {name!r} (list_nodes) before trying again")
        return self._created_node(response.object, name)

    @staticmethod
    def _sequence(value: Any, what: str) -> Sequence[Any]:
        if value is None:
            return ()
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValidationError(f"{what} must be a list")
        return value

    @staticmethod
    def _check_uuid(value: Any, what: str = "ex_vpc_uuid") -> str:
        import uuid  # here, not at the top: importing the driver stays quick

        if isinstance(value, str):
            try:
                return str(uuid.UUID(value.strip()))
            except ValueError:
                pass
        raise ValidationError(f"{what} must be a UUID, not {str(value)[:40]!r}")

    def _ensure_ssh_key(self, pubkey: str) -> int | str:
        """The id of the account's key with this public key's fingerprint, importing it first
        when the account does not have it yet."""
        existing = self.ex_get_key_pair_by_fingerprint(fingerprint_md5(pubkey))
        if existing is None:
            _, _, comment = parse_public_key(pubkey)
            label = comment.strip()[:_MAX_NAME] or f"cloudkit-{fingerprint_md5(pubkey).replace(':', '')[:12]}"
            try:
                existing = self.import_key_pair_from_string(label, pubkey)
            except ValidationError:
                # Someone added the same key meanwhile ("SSH Key is already in use").
                existing = self.ex_get_key_pair_by_fingerprint(fingerprint_md5(pubkey))
                if existing is None:
                    raise
        return int(existing.id) if existing.id and existing.id.isdigit() else fingerprint_md5(pubkey)

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Delete a droplet (True on 204)."""
        self._check_action(node, "destroy_node", ex_force)
        droplet_id = self._droplet_id(node)
        self.connection.request(f"/v2/droplets/{droplet_id}", method="DELETE")
        return True

    # -- libcloud's names for the same things -------------------------------------------------

    def ex_get_node_details(self, node_id: Node | str) -> Node:
        """libcloud's name for ``get_node``."""
        return self.get_node(object_id(node_id, "node"))
