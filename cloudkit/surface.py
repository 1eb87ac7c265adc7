"""The rest of libcloud's ``NodeDriver`` surface: images, volumes and snapshots by libcloud's names.

``NodeDriver`` inherits :class:`LibcloudSurface`, so every driver has each of these methods
with libcloud's base signature. A driver whose provider can do one overrides it; the others
raise ``NotSupportedError`` (a ``NotImplementedError``) before any request, with the reason
``driver.supports(name)`` gives. Block storage is not implemented in cloudkit yet: those
methods say so in their reason, whatever the provider.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from cloudkit.errors import ConfigurationError, NotSupportedError, ValidationError
from cloudkit.models import NodeImage

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.models import Node, NodeLocation, StorageVolume, VolumeSnapshot

__all__ = ["IMAGES_NOT_YET", "IPS_NOT_YET", "VOLUMES_NOT_YET", "LibcloudSurface", "alias", "not_yet"]

F = TypeVar("F", bound=Callable[..., Any])

#: Reasons given by ``supports()`` for the parts of libcloud's surface cloudkit does not do yet.
VOLUMES_NOT_YET = "volumes and volume snapshots are not implemented yet in cloudkit"
IMAGES_NOT_YET = "creating, copying and deleting images is not implemented yet in cloudkit"
IPS_NOT_YET = "floating, shared and extra IP addresses are not implemented yet in cloudkit"


def not_yet(reason: str) -> Callable[[F], F]:
    """Mark a method as unsupported with ``reason`` (read by ``supports()`` and the error)."""

    def mark(fn: F) -> F:
        fn.__dict__["_cloudkit_unsupported"] = True
        fn.__dict__["_cloudkit_reason"] = reason
        return fn

    return mark


def alias(value: Any, other: Any, name: str, other_name: str, *, required: bool = True) -> Any:
    """One argument libcloud spells two ways (``key_pair``/``key``): the one given, or
    ValidationError when both are or (``required``) neither is."""
    if value is not None and other is not None:
        raise ValidationError(f"give {name} or {other_name}, not both")
    if value is None and other is None and required:
        raise ValidationError(f"{name} is required")
    return value if value is not None else other


class LibcloudSurface:
    """libcloud's image, volume and snapshot methods, unsupported unless a driver overrides them."""

    #: The ``api_version`` values the driver accepts (the first is the default); empty: none.
    API_VERSIONS: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:  # pragma: no cover - provided by NodeDriver
        name: ClassVar[str]

        def _not_supported(self, method: str) -> NotSupportedError: ...

    def _api_version(self, api_version: str | None) -> str | None:
        """The version to talk, checked against ``API_VERSIONS``."""
        versions = type(self).API_VERSIONS
        if api_version is None:
            return versions[0] if versions else None
        if api_version not in versions:
            known = ", ".join(repr(v) for v in versions) if versions else "none (omit api_version)"
            raise ConfigurationError(
                f"the {self.name} driver does not support api_version={str(api_version)[:20]!r}; "
                f"supported: {known}")
        return api_version

    @not_yet(IMAGES_NOT_YET)
    def create_image(self, node: Node | str, name: str, description: str | None = None) -> NodeImage:
        """Make an image of ``node``'s disk."""
        raise self._not_supported("create_image")

    @not_yet(IMAGES_NOT_YET)
    def delete_image(self, node_image: NodeImage | str | None = None, image: NodeImage | str | None = None) -> bool:
        """Delete a private image (``image=`` is the name libcloud's DigitalOcean and Linode
        drivers use)."""
        raise self._not_supported("delete_image")

    @not_yet(IMAGES_NOT_YET)
    def copy_image(self, source_region: NodeLocation | str, node_image: NodeImage | str, name: str,
                   description: str | None = None) -> NodeImage:
        """Copy an image from ``source_region`` (libcloud: into the driver's own region)."""
        raise self._not_supported("copy_image")

    @not_yet(VOLUMES_NOT_YET)
    def list_volumes(self) -> list[StorageVolume]:
        """Block storage volumes."""
        raise self._not_supported("list_volumes")

    @not_yet(VOLUMES_NOT_YET)
    def create_volume(self, size: int, name: str, location: NodeLocation | str | None = None,
                      snapshot: VolumeSnapshot | str | None = None) -> StorageVolume:
        """Create a volume of ``size`` GB."""
        raise self._not_supported("create_volume")

    @not_yet(VOLUMES_NOT_YET)
    def attach_volume(self, node: Node | str, volume: StorageVolume | str, device: str | None = None) -> bool:
        """Attach a volume to a node."""
        raise self._not_supported("attach_volume")

    @not_yet(VOLUMES_NOT_YET)
    def detach_volume(self, volume: StorageVolume | str) -> bool:
        """Detach a volume from its node."""
        raise self._not_supported("detach_volume")

    @not_yet(VOLUMES_NOT_YET)
    def destroy_volume(self, volume: StorageVolume | str) -> bool:
        """Delete a volume."""
        raise self._not_supported("destroy_volume")

    @not_yet(VOLUMES_NOT_YET)
    def list_volume_snapshots(self, volume: StorageVolume | str) -> list[VolumeSnapshot]:
        """A volume's snapshots."""
        raise self._not_supported("list_volume_snapshots")

    @not_yet(VOLUMES_NOT_YET)
    def create_volume_snapshot(self, volume: StorageVolume | str, name: str | None = None) -> VolumeSnapshot:
        """Snapshot a volume."""
        raise self._not_supported("create_volume_snapshot")

    @not_yet(VOLUMES_NOT_YET)
    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot | str) -> bool:
        """Delete a volume snapshot."""
        raise self._not_supported("destroy_volume_snapshot")
