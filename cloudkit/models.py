"""The uniform model: nodes, sizes, images, locations, key pairs and their states.

Every ``id`` is a ``str`` whatever type the provider uses. ``extra`` holds provider
fields that have no uniform home. Reprs never show passwords, private keys or tokens.

The models are slotted dataclasses (a listing builds thousands of them; slots make each
smaller and quicker to build): they take no attributes besides their fields, so keep
anything else in ``extra``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, fields
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.driver import NodeDriver

__all__ = [
    "KeyPair",
    "Node",
    "NodeAuthPassword",
    "NodeAuthSSHKey",
    "NodeImage",
    "NodeLocation",
    "NodeSize",
    "NodeState",
    "StorageVolume",
    "StorageVolumeState",
    "VolumeSnapshot",
    "VolumeSnapshotState",
]


class NodeState(StrEnum):
    """A node's state; the values match Apache libcloud's."""

    RUNNING = "running"
    STARTING = "starting"
    REBOOTING = "rebooting"
    TERMINATED = "terminated"
    PENDING = "pending"
    UNKNOWN = "unknown"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    ERROR = "error"
    PAUSED = "paused"
    RECONFIGURING = "reconfiguring"
    MIGRATING = "migrating"
    NORMAL = "normal"
    UPDATING = "updating"


class StorageVolumeState(StrEnum):
    """A block storage volume's state; the values match Apache libcloud's."""

    AVAILABLE = "available"
    ERROR = "error"
    INUSE = "inuse"
    CREATING = "creating"
    DELETING = "deleting"
    DELETED = "deleted"
    BACKUP = "backup"
    ATTACHING = "attaching"
    UNKNOWN = "unknown"
    MIGRATING = "migrating"
    UPDATING = "updating"


class VolumeSnapshotState(StrEnum):
    """A volume snapshot's state; the values match Apache libcloud's."""

    AVAILABLE = "available"
    ERROR = "error"
    CREATING = "creating"
    DELETING = "deleting"
    RESTORING = "restoring"
    UNKNOWN = "unknown"
    UPDATING = "updating"


def _sid(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _driver_name(driver: Any) -> str:
    return getattr(driver, "name", None) or type(driver).__name__ if driver is not None else "-"


@dataclass(eq=False, repr=False, slots=True)
class NodeSize:
    """A machine type. ``ram`` MB, ``disk`` GB, ``price`` hourly USD (or None).

    ``bandwidth`` is the monthly transfer allowance as the provider states it (or None):
    DigitalOcean's ``transfer`` is in TB, Linode's in GB (each driver's docstring says).
    Positional order is libcloud's, ``NodeSize(id, name, ram, disk, bandwidth, price, driver,
    extra)``; ``vcpus`` (cloudkit's own) comes last.
    """

    id: str
    name: str
    ram: int
    disk: int
    bandwidth: float | None
    price: float | None
    driver: NodeDriver | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    vcpus: int | None = None

    def __post_init__(self) -> None:
        if type(self.id) is not str:
            self.id = _sid(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeSize) and (self.id, self.driver) == (other.id, other.driver)

    def __hash__(self) -> int:
        return hash(("size", self.id))

    def __repr__(self) -> str:
        return (f"<NodeSize id={self.id!r} name={self.name!r} ram={self.ram} disk={self.disk} "
                f"vcpus={self.vcpus} price={self.price} driver={_driver_name(self.driver)}>")


@dataclass(eq=False, repr=False, slots=True)
class NodeImage:
    """An operating system image (public distribution, application or private)."""

    id: str
    name: str
    driver: NodeDriver | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if type(self.id) is not str:
            self.id = _sid(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeImage) and (self.id, self.driver) == (other.id, other.driver)

    def __hash__(self) -> int:
        return hash(("image", self.id))

    def __repr__(self) -> str:
        return f"<NodeImage id={self.id!r} name={self.name!r} driver={_driver_name(self.driver)}>"


@dataclass(eq=False, repr=False, slots=True)
class NodeLocation:
    """A region or data centre. ``country`` is an ISO code or name where derivable."""

    id: str
    name: str
    country: str | None
    driver: NodeDriver | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if type(self.id) is not str:
            self.id = _sid(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeLocation) and (self.id, self.driver) == (other.id, other.driver)

    def __hash__(self) -> int:
        return hash(("location", self.id))

    def __repr__(self) -> str:
        return (f"<NodeLocation id={self.id!r} name={self.name!r} country={self.country!r} "
                f"driver={_driver_name(self.driver)}>")


@dataclass(eq=False, repr=False, slots=True)
class Node:
    """A server. ``extra`` may hold a generated root password once (never shown in repr).

    Positional order is libcloud's: ``Node(id, name, state, public_ips, private_ips, driver,
    size, image, extra, created_at)``; ``tags`` (cloudkit's own) comes last.
    """

    id: str
    name: str
    state: NodeState
    public_ips: list[str]
    private_ips: list[str]
    driver: NodeDriver | None = None
    size: NodeSize | None = None
    image: NodeImage | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    created_at: _dt.datetime | None = None
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if type(self.id) is not str:
            self.id = _sid(self.id)
        if type(self.state) is not NodeState:
            self.state = NodeState(self.state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and (self.id, self.driver) == (other.id, other.driver)

    def __hash__(self) -> int:
        return hash(("node", self.id))

    def __repr__(self) -> str:
        return (f"<Node id={self.id!r} name={self.name!r} state={self.state.value} "
                f"public_ips={self.public_ips} private_ips={self.private_ips} "
                f"provider={_driver_name(self.driver)}>")

    @property
    def uuid(self) -> str:
        """libcloud's node uuid: the SHA-1 hex digest of ``"{id}:{driver.type}"``."""
        return self.get_uuid()

    def get_uuid(self) -> str:
        """A stable identifier of this node across drivers (libcloud's ``get_uuid``): the
        SHA-1 hex digest of ``"{id}:{driver type}"`` (the provider name, e.g. ``digitalocean``)."""
        kind = getattr(self.driver, "type", None) if self.driver is not None else None
        text = f"{self.id}:{kind}"
        import hashlib  # imported on first use: importing cloudkit stays quick

        return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()

    def _need_driver(self) -> NodeDriver:
        if self.driver is None:
            from cloudkit.errors import ConfigurationError

            raise ConfigurationError(f"node {self.id} is not bound to a driver")
        return self.driver

    def reboot(self) -> bool:
        """Reboot this node through its driver."""
        return self._need_driver().reboot_node(self)

    def destroy(self) -> bool:
        """Destroy this node through its driver."""
        return self._need_driver().destroy_node(self)

    def start(self) -> bool:
        """Start (power on) this node through its driver."""
        return self._need_driver().start_node(self)

    def stop(self) -> bool:
        """Stop (shut down) this node through its driver."""
        return self._need_driver().stop_node(self)


@dataclass(eq=False, repr=False, slots=True)
class KeyPair:
    """An SSH key pair known to the provider. ``private_key`` is set only by
    ``create_key_pair`` (returned once, never shown in repr)."""

    name: str
    public_key: str
    fingerprint: str | None
    driver: NodeDriver | None = None
    private_key: str | None = None
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.id is not None:
            self.id = _sid(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyPair) and (self.id, self.name, self.driver) == (
            other.id, other.name, other.driver)

    def __hash__(self) -> int:
        return hash(("keypair", self.id, self.name))

    def __repr__(self) -> str:
        secret = " private_key=<hidden>" if self.private_key else ""
        return (f"<KeyPair id={self.id!r} name={self.name!r} fingerprint={self.fingerprint!r}"
                f"{secret} driver={_driver_name(self.driver)}>")


@dataclass(eq=False, repr=False, slots=True)
class NodeAuthSSHKey:
    """Log in to a new node with this public key (``ssh-ed25519 AAAA... comment``)."""

    pubkey: str

    def __repr__(self) -> str:
        kind = self.pubkey.split(" ", 1)[0] if self.pubkey else "?"
        return f"<NodeAuthSSHKey {kind}>"


@dataclass(eq=False, repr=False, slots=True)
class NodeAuthPassword:
    """Log in to a new node with this root password. ``generated`` is True when cloudkit made it."""

    password: str
    generated: bool = False

    def __repr__(self) -> str:
        return f"<NodeAuthPassword password=<hidden> generated={self.generated}>"

    def __str__(self) -> str:
        return "<hidden>"


@dataclass(eq=False, repr=False, slots=True)
class StorageVolume:
    """A block storage volume of ``size`` GB.

    Positional order is libcloud's: ``StorageVolume(id, name, size, driver, state, extra)``.
    ``extra["region"]`` is the id of the location it lives in, and the node it is attached to
    is in ``extra`` under the provider's name (DigitalOcean ``droplet_ids``, empty when
    detached; Linode ``linode_id``, None when detached).
    """

    id: str
    name: str
    size: int
    driver: NodeDriver | None = None
    state: StorageVolumeState = StorageVolumeState.UNKNOWN
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if type(self.id) is not str:
            self.id = _sid(self.id)
        state: Any = self.state  # libcloud code may pass None
        if type(state) is not StorageVolumeState:
            self.state = StorageVolumeState.UNKNOWN if state is None else StorageVolumeState(state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StorageVolume) and (self.id, self.driver) == (other.id, other.driver)

    def __hash__(self) -> int:
        return hash(("volume", self.id))

    def __repr__(self) -> str:
        return (f"<StorageVolume id={self.id!r} name={self.name!r} size={self.size} "
                f"state={self.state.value} driver={_driver_name(self.driver)}>")

    def _need_driver(self) -> NodeDriver:
        if self.driver is None:
            from cloudkit.errors import ConfigurationError

            raise ConfigurationError(f"volume {self.id} is not bound to a driver")
        return self.driver

    def list_snapshots(self) -> list[VolumeSnapshot]:
        """This volume's snapshots, through its driver."""
        return self._need_driver().list_volume_snapshots(self)

    def attach(self, node: Node, device: str | None = None) -> bool:
        """Attach this volume to ``node`` through its driver."""
        return self._need_driver().attach_volume(node, self, device)

    def detach(self) -> bool:
        """Detach this volume from its node through its driver."""
        return self._need_driver().detach_volume(self)

    def snapshot(self, name: str | None = None) -> VolumeSnapshot:
        """Snapshot this volume through its driver."""
        return self._need_driver().create_volume_snapshot(self, name)

    def destroy(self) -> bool:
        """Delete this volume through its driver."""
        return self._need_driver().destroy_volume(self)


@dataclass(eq=False, repr=False, slots=True)
class VolumeSnapshot:
    """A snapshot of a volume. ``size`` GB (or None), ``created`` a UTC datetime (or None).

    Positional order is libcloud's: ``VolumeSnapshot(id, driver, size, extra, created, state,
    name)``.
    """

    id: str
    driver: NodeDriver | None = None
    size: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    created: _dt.datetime | None = None
    state: VolumeSnapshotState = VolumeSnapshotState.UNKNOWN
    name: str | None = None

    def __post_init__(self) -> None:
        if type(self.id) is not str:
            self.id = _sid(self.id)
        state: Any = self.state  # libcloud code may pass None
        if type(state) is not VolumeSnapshotState:
            self.state = VolumeSnapshotState.UNKNOWN if state is None else VolumeSnapshotState(state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VolumeSnapshot) and (self.id, self.driver) == (other.id, other.driver)

    def __hash__(self) -> int:
        return hash(("snapshot", self.id))

    def __repr__(self) -> str:
        return (f"<VolumeSnapshot id={self.id!r} name={self.name!r} size={self.size} "
                f"state={self.state.value} driver={_driver_name(self.driver)}>")

    def destroy(self) -> bool:
        """Delete this snapshot through its driver."""
        if self.driver is None:
            from cloudkit.errors import ConfigurationError

            raise ConfigurationError(f"snapshot {self.id} is not bound to a driver")
        return self.driver.destroy_volume_snapshot(self)


# -- pickling ------------------------------------------------------------------------------------

_FIELDS: dict[type, attrgetter[Any]] = {}


def _reduce_model(self: Any) -> tuple[type, tuple[Any, ...]]:
    """Pickle a model as a call of its constructor with its fields, in order: a listing sent
    back from a worker process (``map_drivers`` on an executor) is thousands of models, and
    this is about three times quicker both ways than the dataclass's per-field state."""
    cls = type(self)
    get = _FIELDS.get(cls)
    if get is None:
        get = _FIELDS[cls] = attrgetter(*(f.name for f in fields(cls)))
    return (cls, get(self))


for _model in (Node, NodeSize, NodeImage, NodeLocation, KeyPair, StorageVolume, VolumeSnapshot):
    _model.__reduce__ = _reduce_model  # type: ignore[method-assign]  # slotted dataclasses: set after creation
