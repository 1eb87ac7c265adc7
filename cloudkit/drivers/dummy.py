"""An in-memory driver: the whole contract, no network.

For examples and for users' own tests. Nodes start PENDING and become RUNNING after
``ex_boot_seconds``; their public address is 127.0.0.1 unless configured otherwise, so
``deploy_node`` can run against an SSH server on loopback. Nodes carry tags
(``create_node(..., ex_tags=[...])``, ``ex_tag_node``/``ex_untag_node``), and
``list_nodes(tag=...)`` filters on them.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from cloudkit.connection import Connection
from cloudkit.driver import NodeDriver, object_id
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

__all__ = ["DummyNodeDriver"]

_SIZES = [
    # id, name, ram MB, disk GB, transfer GB, hourly USD, vcpus
    ("small", "Small 1 vCPU / 1 GB", 1024, 25, 1000.0, 0.009, 1),
    ("medium", "Medium 2 vCPU / 4 GB", 4096, 80, 4000.0, 0.036, 2),
    ("large", "Large 4 vCPU / 8 GB", 8192, 160, 5000.0, 0.071, 4),
]
_IMAGES = [
    ("debian-12", "Debian 12", "Debian"),
    ("ubuntu-24-04", "Ubuntu 24.04 LTS", "Ubuntu"),
    ("rocky-9", "Rocky Linux 9", "Rocky Linux"),
]
_LOCATIONS = [
    ("lon1", "London 1", "GB"),
    ("nyc1", "New York 1", "US"),
    ("fra1", "Frankfurt 1", "DE"),
]


class _NoNetwork(Connection):
    """The dummy driver sends no requests; this only satisfies the driver's shape."""

    host = "dummy.invalid"


class DummyNodeDriver(NodeDriver):
    """An in-memory cloud. Thread-safe; every instance is its own account."""

    name = "Dummy"
    type = "dummy"
    website = "https://example.invalid/dummy"
    credential_names: ClassVar[tuple[str, ...]] = ()  # in memory: no credentials needed
    connectionCls = _NoNetwork
    features: ClassVar[dict[str, list[str]]] = {"create_node": ["ssh_key", "password"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = {state.value: state for state in NodeState}

    def __init__(self, key: str = "dummy", secret: str | None = None, secure: bool = True,
                 host: str | None = None, port: int | None = None, *,
                 ex_public_ips: Sequence[str] = ("127.0.0.1",), ex_boot_seconds: float = 0.0,
                 ex_never_boot: bool = False, **kwargs: Any) -> None:
        super().__init__(key, secret, secure, host, port, **kwargs)
        self.ex_public_ips = list(ex_public_ips)
        self.ex_boot_seconds = ex_boot_seconds
        self.ex_never_boot = ex_never_boot
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._nodes: dict[str, Node] = {}
        self._boot_at: dict[str, float] = {}
        self._keys: dict[str, KeyPair] = {}
        self._tags: set[str] = set()
        self._sizes = [NodeSize(i, n, ram, disk, bw, price, self, {}, vcpus) for i, n, ram, disk, bw, price, vcpus
                       in _SIZES]
        self._images = [NodeImage(i, n, self, {"distribution": d}) for i, n, d in _IMAGES]
        self._locations = [NodeLocation(i, n, c, self) for i, n, c in _LOCATIONS]

    # -- catalogue --------------------------------------------------------------------------

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        return list(self._sizes)

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        return list(self._images)

    def list_locations(self) -> list[NodeLocation]:
        return list(self._locations)

    def verify_credentials(self) -> bool:
        return True

    # -- nodes ------------------------------------------------------------------------------

    def _refresh(self, node: Node) -> Node:
        boot_at = self._boot_at.get(node.id)
        if boot_at is not None and time.monotonic() >= boot_at:
            node.state = NodeState.RUNNING
            del self._boot_at[node.id]
        return node

    def _copy(self, node: Node) -> Node:
        return Node(node.id, node.name, node.state, list(node.public_ips), list(node.private_ips), self,
                    node.size, node.image, dict(node.extra), node.created_at, list(node.tags))

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        with self._lock:
            nodes = [self._copy(self._refresh(n)) for n in self._nodes.values()]
        return [n for n in nodes if tag is None or tag in n.tags]

    def get_node(self, node_id: str) -> Node:
        node_id = object_id(node_id, "node")
        with self._lock:
            node = self._nodes.get(node_id)
            if node is None:
                raise NotFoundError(f"node {node_id} not found", 404, driver=self.name)
            return self._copy(self._refresh(node))

    def _find(self, items: Sequence[Any], value: Any, kind: str) -> Any:
        wanted = object_id(value, kind)
        for item in items:
            if item.id == wanted:
                return item
        raise ValidationError(f"unknown {kind} {wanted!r}; choose one of "
                              f"{', '.join(i.id for i in items)}")

    def create_node(self, name: str, size: NodeSize | str, image: NodeImage | str,
                    location: NodeLocation | str | None = None, auth: NodeAuthSSHKey | NodeAuthPassword | None = None,
                    ex_tags: Sequence[str] = (), **kwargs: Any) -> Node:
        if kwargs:
            raise ValidationError(f"unknown create_node arguments: {', '.join(sorted(kwargs))}")
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("node name must be a non-empty string")
        node_size = self._find(self._sizes, size, "size")
        node_image = self._find(self._images, image, "image")
        node_location = self._find(self._locations, location or self._locations[0], "location")
        extra: dict[str, Any] = {"location": node_location.id}
        if isinstance(auth, NodeAuthSSHKey):
            parse_public_key(auth.pubkey)
            extra["auth"] = "ssh_key"
        elif isinstance(auth, NodeAuthPassword):
            extra["auth"] = "password"
        elif auth is not None:
            raise ValidationError("auth must be NodeAuthSSHKey or NodeAuthPassword")
        if isinstance(ex_tags, str):
            raise ValidationError("ex_tags must be a list of tags, not one string")
        tags = list(dict.fromkeys(self._tag(t) for t in ex_tags))
        with self._lock:
            self._tags.update(tags)
            number = next(self._ids)
            node = Node(str(number), name, NodeState.PENDING, list(self.ex_public_ips),
                        [f"10.0.{number // 250}.{number % 250 + 2}"], self, node_size, node_image,
                        extra, _dt.datetime.now(_dt.UTC), tags)
            self._nodes[node.id] = node
            if not self.ex_never_boot:
                self._boot_at[node.id] = time.monotonic() + self.ex_boot_seconds
            return self._copy(self._refresh(node))

    def _set_state(self, node: Node | str, action: str, state: NodeState, ex_force: bool) -> bool:
        current = self.get_node(object_id(node, "node"))
        self._check_action(current, action, ex_force)
        with self._lock:
            stored = self._nodes.get(current.id)
            if stored is None:
                raise NotFoundError(f"node {current.id} not found", 404, driver=self.name)
            stored.state = state
        return True

    def reboot_node(self, node: Node, ex_force: bool = False) -> bool:
        return self._set_state(node, "reboot_node", NodeState.RUNNING, ex_force)

    def start_node(self, node: Node, ex_force: bool = False) -> bool:
        return self._set_state(node, "start_node", NodeState.RUNNING, ex_force)

    def stop_node(self, node: Node, ex_force: bool = False) -> bool:
        return self._set_state(node, "stop_node", NodeState.STOPPED, ex_force)

    def destroy_node(self, node: Node, ex_force: bool = False) -> bool:
        node_id = object_id(node, "node")
        self._check_action(self.get_node(node_id), "destroy_node", ex_force)
        with self._lock:
            if self._nodes.pop(node_id, None) is None:
                raise NotFoundError(f"node {node_id} not found", 404, driver=self.name)
            self._boot_at.pop(node_id, None)
        return True

    # -- key pairs --------------------------------------------------------------------------

    @staticmethod
    def _public(pair: KeyPair) -> KeyPair:
        return KeyPair(pair.name, pair.public_key, pair.fingerprint, pair.driver, id=pair.id)

    def list_key_pairs(self) -> list[KeyPair]:
        with self._lock:
            return [self._public(pair) for pair in self._keys.values()]

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        if not name:
            raise ValidationError("key pair name must not be empty")
        fingerprint = fingerprint_md5(key_material)
        with self._lock:
            if name in self._keys:
                raise ValidationError(f"a key pair named {name!r} already exists")
            pair = KeyPair(name, key_material.strip(), fingerprint, self, id=name)
            self._keys[name] = pair
            return self._public(pair)

    def delete_key_pair(self, key_pair: KeyPair) -> bool:
        with self._lock:
            if self._keys.pop(key_pair.name, None) is None:
                raise NotFoundError(f"key pair {key_pair.name!r} not found", 404, driver=self.name)
        return True

    # -- tags -------------------------------------------------------------------------------

    @staticmethod
    def _tag(tag: Any) -> str:
        if not isinstance(tag, str) or not tag.strip():
            raise ValidationError("a tag must be a non-empty string")
        return tag.strip()

    def ex_list_tags(self) -> list[str]:
        """The account's tags, sorted."""
        with self._lock:
            return sorted(self._tags)

    def ex_create_tag(self, name: str) -> str:
        """Create a tag (creating an existing one is harmless); returns its name."""
        tag = self._tag(name)
        with self._lock:
            self._tags.add(tag)
        return tag

    def ex_delete_tag(self, name: str) -> bool:
        """Delete a tag; the nodes carrying it lose it."""
        tag = self._tag(name)
        with self._lock:
            if tag not in self._tags:
                raise NotFoundError(f"tag {tag!r} not found", 404, driver=self.name)
            self._tags.discard(tag)
            for node in self._nodes.values():
                if tag in node.tags:
                    node.tags.remove(tag)
        return True

    def ex_tag_node(self, node: Node | str, tag: str) -> bool:
        """Tag a node (the tag is created when new)."""
        return self._retag(node, self._tag(tag), add=True)

    def ex_untag_node(self, node: Node | str, tag: str) -> bool:
        """Remove a tag from a node."""
        return self._retag(node, self._tag(tag), add=False)

    def _retag(self, node: Node | str, tag: str, *, add: bool) -> bool:
        node_id = object_id(node, "node")
        with self._lock:
            stored = self._nodes.get(node_id)
            if stored is None:
                raise NotFoundError(f"node {node_id} not found", 404, driver=self.name)
            if add:
                self._tags.add(tag)
                if tag not in stored.tags:
                    stored.tags.append(tag)
            elif tag in stored.tags:
                stored.tags.remove(tag)
            tags = list(stored.tags)
        if isinstance(node, Node):
            node.tags = tags
        return True
