"""DigitalOcean block storage, volume snapshots, images from droplets and reserved IPs.

Mixed into ``DigitalOceanNodeDriver`` (before ``NodeDriver``, so these methods replace the
base's "not implemented yet" stubs). libcloud 3.9.1's names and keywords; DigitalOcean's
"floating IPs" are called reserved IPs today, and these methods use the ``/v2/reserved_ips``
endpoints under libcloud's ``ex_*_floating_ip*`` names.

What users rely on:

* a volume's ``extra["region"]`` is its region slug (the location id) and
  ``extra["droplet_ids"]`` the ids (strings) of the droplets it is attached to, empty when
  detached; its state is ``INUSE`` when attached, ``AVAILABLE`` otherwise;
* attach, detach and image creation return once DigitalOcean reports the action completed
  (``/v2/actions/{id}``), within ``timeout`` seconds (``WaitTimeoutError`` after), or at once
  with ``ex_wait=False``; once they return, ``list_volumes()`` shows the result. A volume
  snapshot is complete when the API answers (its ``POST`` answers with the finished snapshot);
* refusals are made before anything is sent, on fresh data: a volume the caller's object
  shows attached is fetched once before being refused.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloudkit.driver import NodeDriver, object_id, refresh_in_place
from cloudkit.errors import CloudkitError, MalformedResponseError, ValidationError
from cloudkit.models import (
    Node,
    NodeImage,
    NodeLocation,
    StorageVolume,
    StorageVolumeState,
    VolumeSnapshot,
    VolumeSnapshotState,
)
from cloudkit.parsing import as_dict, opt_int, parse_datetime, req, req_id
from cloudkit.surface import alias

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.drivers.digitalocean.base import DigitalOceanAction

__all__ = ["MAX_VOLUME_GB", "MIN_VOLUME_GB", "DigitalOceanReservedIP", "DigitalOceanStorage"]

#: Volume sizes the API accepts, in GiB.
MIN_VOLUME_GB = 1
MAX_VOLUME_GB = 16384
_VOLUME_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_FILESYSTEMS = ("ext4", "xfs")


@dataclass(eq=False)
class DigitalOceanReservedIP:
    """A reserved (formerly floating) IP, in libcloud's positional order: ``(id,
    ip_address, node_id, extra, driver)``. ``id`` is the address itself; ``node_id`` the
    droplet it points at (None when unassigned); ``extra["region"]`` its region slug."""

    id: str
    ip_address: str
    node_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    driver: Any = None

    def __repr__(self) -> str:
        return f"<DigitalOceanReservedIP {self.ip_address} node={self.node_id} region={self.extra.get('region')}>"

    def delete(self) -> bool:
        """Release this address (libcloud's ``delete``)."""
        return bool(self.driver.ex_delete_floating_ip(self))


def _volume_id(volume: Any) -> str:
    value = volume.id if isinstance(volume, StorageVolume) else object_id(volume, "volume")
    if not _UUID.match(value):
        raise ValidationError(f"a DigitalOcean volume id is a UUID, not {value[:40]!r}")
    return value


def _snapshot_id(snapshot: Any) -> str:
    value = snapshot.id if isinstance(snapshot, VolumeSnapshot) else object_id(snapshot, "snapshot")
    if not (_UUID.match(value) or value.isdigit()):
        raise ValidationError(f"a DigitalOcean snapshot id is a UUID or a number, not {value[:40]!r}")
    return value


def _ip_address(ip: Any) -> str:
    value = ip.ip_address if isinstance(ip, DigitalOceanReservedIP) else ip
    if not isinstance(value, str) or not _IPV4.match(value.strip()):
        raise ValidationError(f"a reserved IP is an IPv4 address, not {str(value)[:40]!r}")
    return value.strip()


def check_volume_size(size: Any) -> int:
    """``size`` as an int within the API's 1 to 16384 GiB."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValidationError(f"volume size is a whole number of GiB, not {str(size)[:20]!r}")
    if not MIN_VOLUME_GB <= size <= MAX_VOLUME_GB:
        raise ValidationError(f"a DigitalOcean volume is {MIN_VOLUME_GB} to {MAX_VOLUME_GB} GiB, not {size}")
    return size


def _check_volume_name(name: Any) -> str:
    if not isinstance(name, str) or not _VOLUME_NAME.match(name):
        shown = repr(name[:70]) if isinstance(name, str) else type(name).__name__
        raise ValidationError(f"invalid DigitalOcean volume name {shown}: up to 64 lowercase letters, "
                              "digits and '-', starting with a letter")
    return name


class DigitalOceanStorage(NodeDriver):
    """Volumes, volume snapshots, images from droplets and reserved IPs (DigitalOcean API v2)."""

    if TYPE_CHECKING:  # pragma: no cover - provided by DigitalOceanNodeDriver
        def _list(self, path: str, key: str, params: Mapping[str, Any] | None = None,
                  transform: Callable[[Any], Any] | None = None) -> list[Any]: ...

        @staticmethod
        def _droplet_id(node: Any) -> str: ...

        @staticmethod
        def _region_slug(location: Any) -> str: ...

        def _to_action(self, data: Any) -> DigitalOceanAction: ...

        def _to_image(self, data: Any) -> NodeImage: ...

        def list_images(self, location: NodeLocation | str | None = None, *,
                        ex_type: str | None = None) -> list[NodeImage]: ...

        def ex_wait_for_action(self, action: DigitalOceanAction | str | int, timeout: float = 600.0,
                               interval: float | None = None) -> DigitalOceanAction: ...

    # -- parsing ------------------------------------------------------------------------------

    def _to_volume(self, data: Any) -> StorageVolume:
        what = "volume"
        obj = as_dict(data, what)
        region = obj.get("region")
        slug = region.get("slug") if isinstance(region, dict) else region
        droplets = obj.get("droplet_ids") or []
        if not isinstance(droplets, list):
            raise MalformedResponseError(f"{what}: droplet_ids is not a list", driver=self.name)
        droplet_ids = [str(d) for d in droplets if isinstance(d, (int, str)) and not isinstance(d, bool)]
        tags = obj.get("tags") or []
        extra: dict[str, Any] = {
            "region": slug if isinstance(slug, str) else None,
            "region_slug": slug if isinstance(slug, str) else None,  # libcloud's key
            "region_name": region.get("name") if isinstance(region, dict) else None,
            "droplet_ids": droplet_ids,
            "description": obj.get("description") if isinstance(obj.get("description"), str) else None,
            "created_at": obj.get("created_at") if isinstance(obj.get("created_at"), str) else None,
            "created": parse_datetime(obj.get("created_at")),
            "filesystem_type": obj.get("filesystem_type") or None,
            "filesystem_label": obj.get("filesystem_label") or None,
            "tags": [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        }
        state = StorageVolumeState.INUSE if droplet_ids else StorageVolumeState.AVAILABLE
        size = opt_int(obj.get("size_gigabytes"))
        if size is None:
            raise MalformedResponseError(f"{what}: no size_gigabytes", driver=self.name)
        return StorageVolume(req_id(obj, "id", what), req(obj, "name", str, what), size, self, state, extra)

    def _to_volume_snapshot(self, data: Any) -> VolumeSnapshot:
        what = "snapshot"
        obj = as_dict(data, what)
        regions = obj.get("regions") or []
        tags = obj.get("tags") or []
        resource = obj.get("resource_id")
        extra: dict[str, Any] = {
            "created_at": obj.get("created_at") if isinstance(obj.get("created_at"), str) else None,
            "resource_id": str(resource) if isinstance(resource, (int, str)) and not isinstance(resource, bool)
            else None,
            "resource_type": obj.get("resource_type"),
            "regions": [r for r in regions if isinstance(r, str)] if isinstance(regions, list) else [],
            "min_disk_size": opt_int(obj.get("min_disk_size")),
            "tags": [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        }
        # The API lists only finished snapshots (a POST answers once the snapshot is taken).
        return VolumeSnapshot(req_id(obj, "id", what), self, opt_int(obj.get("size_gigabytes")), extra,
                              parse_datetime(obj.get("created_at")), VolumeSnapshotState.AVAILABLE,
                              obj.get("name") if isinstance(obj.get("name"), str) else None)

    def _to_reserved_ip(self, data: Any) -> DigitalOceanReservedIP:
        what = "reserved_ip"
        obj = as_dict(data, what)
        address = req(obj, "ip", str, what)
        droplet = obj.get("droplet")
        node_id = None
        if isinstance(droplet, dict) and droplet.get("id") is not None:
            node_id = str(droplet["id"])
        region = obj.get("region")
        extra = {
            "region": region.get("slug") if isinstance(region, dict) else region,
            "locked": obj.get("locked") is True,
            "project_id": obj.get("project_id"),
        }
        return DigitalOceanReservedIP(address, address, node_id, extra, self)

    # -- helpers ------------------------------------------------------------------------------

    def _fresh_volume(self, volume: StorageVolume | str) -> StorageVolume:
        """The volume as the API describes it now; a caller's object is refreshed in place."""
        fresh = self.ex_get_volume(_volume_id(volume))
        if isinstance(volume, StorageVolume):
            refresh_in_place(volume, fresh)
        return fresh

    def _node_region(self, node: Node | str) -> tuple[str, str | None]:
        """(droplet id, region slug): from the Node when it names its region (a droplet never
        moves), else from the API."""
        droplet_id = self._droplet_id(node)
        region = node.extra.get("region") if isinstance(node, Node) else None
        if not isinstance(region, str) or not region:
            region = self.get_node(droplet_id).extra.get("region")
        return droplet_id, region if isinstance(region, str) else None

    def _volume_action(self, volume_id: str, body: dict[str, Any], *, ex_wait: bool, timeout: float) -> None:
        response = self.connection.request(
            f"/v2/volumes/{volume_id}/actions", data=body, method="POST",
            outcome_hint=f"check volume {volume_id} (ex_get_volume) before sending {body['type']} again")
        answer = as_dict(response.object, f"POST /v2/volumes/{volume_id}/actions")
        if ex_wait:
            action = self._to_action(answer.get("action"))
            self.ex_wait_for_action(action, timeout=timeout)

    # -- volumes ------------------------------------------------------------------------------

    def list_volumes(self) -> list[StorageVolume]:
        """Every block storage volume (``extra["region"]``: its region slug;
        ``extra["droplet_ids"]``: the droplets it is attached to, empty when detached)."""
        return self._list("/v2/volumes", "volumes", None, self._to_volume)

    def ex_get_volume(self, volume_id: StorageVolume | str) -> StorageVolume:
        """One volume by id (``GET /v2/volumes/{id}``)."""
        return self._to_volume(self._member(f"/v2/volumes/{_volume_id(volume_id)}", "volume"))

    def create_volume(self, size: int, name: str, location: NodeLocation | str | None = None,
                      snapshot: VolumeSnapshot | str | None = None, *,
                      ex_description: str | None = None, ex_filesystem_type: str | None = None,
                      ex_filesystem_label: str | None = None,
                      ex_tags: Sequence[str] | None = None) -> StorageVolume:
        """Create a volume of ``size`` GiB (1 to 16384) in ``location`` (a region slug or
        NodeLocation), empty or from a volume ``snapshot`` (then ``location`` defaults to the
        snapshot's region). ``ex_filesystem_type`` ``"ext4"`` or ``"xfs"`` formats it."""
        body: dict[str, Any] = {"size_gigabytes": check_volume_size(size), "name": _check_volume_name(name)}
        if snapshot is not None:
            body["snapshot_id"] = _snapshot_id(snapshot)
            if location is None and isinstance(snapshot, VolumeSnapshot) and snapshot.extra.get("regions"):
                location = snapshot.extra["regions"][0]
        if location is None:
            raise ValidationError("create_volume needs location= (the region the volume lives in)")
        body["region"] = self._region_slug(location)
        if ex_description is not None:
            if not isinstance(ex_description, str):
                raise ValidationError("ex_description must be a string")
            body["description"] = ex_description
        if ex_filesystem_type is not None:
            if ex_filesystem_type not in _FILESYSTEMS:
                raise ValidationError(f"ex_filesystem_type must be one of {', '.join(_FILESYSTEMS)}")
            body["filesystem_type"] = ex_filesystem_type
        if ex_filesystem_label is not None:
            limit = 16 if body.get("filesystem_type") != "xfs" else 12
            if not isinstance(ex_filesystem_label, str) or len(ex_filesystem_label) > limit:
                raise ValidationError(f"ex_filesystem_label is a string of at most {limit} characters")
            body["filesystem_label"] = ex_filesystem_label
        if ex_tags is not None:
            if isinstance(ex_tags, str) or not all(isinstance(t, str) for t in ex_tags):
                raise ValidationError("ex_tags must be a list of strings")
            body["tags"] = list(ex_tags)
        response = self.connection.request(
            "/v2/volumes", data=body, method="POST",
            outcome_hint=f"look for a volume named {name!r} (list_volumes) before trying again")
        return self._to_volume(as_dict(response.object, "POST /v2/volumes").get("volume"))

    def attach_volume(self, node: Node | str, volume: StorageVolume | str, device: str | None = None, *,
                      ex_wait: bool = True, timeout: float = 600.0) -> bool:
        """Attach ``volume`` to a droplet and, unless ``ex_wait=False``, wait until
        DigitalOcean reports it attached (``timeout`` seconds at most). ``device`` is accepted
        for libcloud compatibility and ignored (DigitalOcean picks the device).

        Refused before anything is sent (``ValidationError``) when the volume and the droplet
        are in different regions (naming both), or when the volume is attached to another
        droplet as the API says now. Attaching to the droplet it is already on does nothing.
        """
        droplet_id, node_region = self._node_region(node)
        cached = isinstance(volume, StorageVolume)
        current = volume if isinstance(volume, StorageVolume) else self._fresh_volume(volume)
        attached = current.extra.get("droplet_ids") or []
        if cached and attached and attached != [droplet_id]:
            current = self._fresh_volume(current)  # decide on what the API says now
            attached = current.extra.get("droplet_ids") or []
        region = current.extra.get("region")
        if node_region and region and node_region != region:
            raise ValidationError(f"volume {current.id} is in region {region} and droplet {droplet_id} in "
                                  f"{node_region}: a volume attaches only to a droplet in its own region")
        if attached == [droplet_id]:
            return True
        if attached:
            raise ValidationError(f"volume {current.id} is attached to droplet {', '.join(attached)}; "
                                  "detach it first (detach_volume)")
        body: dict[str, Any] = {"type": "attach", "droplet_id": int(droplet_id)}
        if region:
            body["region"] = region
        self._volume_action(current.id, body, ex_wait=ex_wait, timeout=timeout)
        if isinstance(volume, StorageVolume) and ex_wait:
            volume.extra["droplet_ids"] = [droplet_id]
            volume.state = StorageVolumeState.INUSE
        return True

    def detach_volume(self, volume: StorageVolume | str, *, ex_wait: bool = True,
                      timeout: float = 600.0) -> bool:
        """Detach ``volume`` from its droplet and, unless ``ex_wait=False``, wait until
        DigitalOcean reports it detached. A volume the API shows detached is left as is."""
        cached = isinstance(volume, StorageVolume)
        current = volume if isinstance(volume, StorageVolume) else self._fresh_volume(volume)
        if cached and not current.extra.get("droplet_ids"):
            current = self._fresh_volume(current)
        for droplet_id in list(current.extra.get("droplet_ids") or []):
            body: dict[str, Any] = {"type": "detach", "droplet_id": int(droplet_id)}
            if current.extra.get("region"):
                body["region"] = current.extra["region"]
            self._volume_action(current.id, body, ex_wait=ex_wait, timeout=timeout)
        if isinstance(volume, StorageVolume) and ex_wait:
            volume.extra["droplet_ids"] = []
            volume.state = StorageVolumeState.AVAILABLE
        return True

    def destroy_volume(self, volume: StorageVolume | str, *, ex_detach: bool = False,
                       timeout: float = 600.0) -> bool:
        """Delete a volume. One attached to a droplet (as the API says now) is refused with
        ``ValidationError`` naming the droplet, unless ``ex_detach=True``: then it is detached
        first (waiting for that) and deleted."""
        volume_id = _volume_id(volume)
        cached = volume.extra.get("droplet_ids") if isinstance(volume, StorageVolume) else None
        if cached is None or cached:
            current = self._fresh_volume(volume)
            if current.extra.get("droplet_ids"):
                if not ex_detach:
                    raise ValidationError(
                        f"volume {volume_id} is attached to droplet {', '.join(current.extra['droplet_ids'])}; "
                        "detach it first, or pass ex_detach=True")
                self.detach_volume(current, timeout=timeout)
        self.connection.request(f"/v2/volumes/{volume_id}", method="DELETE")
        return True

    def ex_resize_volume(self, volume: StorageVolume | str, size: int, *, ex_wait: bool = True,
                         timeout: float = 600.0) -> bool:
        """Grow a volume to ``size`` GiB (volumes only grow; the ``resize`` volume action) and,
        unless ``ex_wait=False``, wait until DigitalOcean reports it done; then
        ``list_volumes()`` shows the new size. Growing to the current size does nothing."""
        new_size = check_volume_size(size)
        current = self._fresh_volume(volume)
        if current.size == new_size:
            return True
        if current.size > new_size:
            raise ValidationError(f"volume {current.id} is {current.size} GiB: volumes only grow, not to {new_size}")
        body: dict[str, Any] = {"type": "resize", "size_gigabytes": new_size}
        if current.extra.get("region"):
            body["region"] = current.extra["region"]
        self._volume_action(current.id, body, ex_wait=ex_wait, timeout=timeout)
        if isinstance(volume, StorageVolume) and ex_wait:
            volume.size = new_size
        return True

    # -- volume snapshots ---------------------------------------------------------------------

    def list_volume_snapshots(self, volume: StorageVolume | str) -> list[VolumeSnapshot]:
        """A volume's snapshots."""
        return self._list(f"/v2/volumes/{_volume_id(volume)}/snapshots", "snapshots", None,
                          self._to_volume_snapshot)

    def create_volume_snapshot(self, volume: StorageVolume | str, name: str | None = None, *,
                               ex_tags: Sequence[str] | None = None) -> VolumeSnapshot:
        """Snapshot a volume; DigitalOcean answers with the finished snapshot. Without
        ``name``, one is made from the volume's name (or id) and the UTC time."""
        volume_id = _volume_id(volume)
        if name is None:
            base = volume.name if isinstance(volume, StorageVolume) else volume_id
            name = f"{base}-{_dt.datetime.now(_dt.UTC).strftime('%Y%m%d%H%M%S')}"
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ValidationError("a snapshot name is a non-empty string of at most 255 characters")
        body: dict[str, Any] = {"name": name}
        if ex_tags is not None:
            if isinstance(ex_tags, str) or not all(isinstance(t, str) for t in ex_tags):
                raise ValidationError("ex_tags must be a list of strings")
            body["tags"] = list(ex_tags)
        response = self.connection.request(
            f"/v2/volumes/{volume_id}/snapshots", data=body, method="POST",
            outcome_hint=f"look for a snapshot named {name!r} (list_volume_snapshots) before trying again")
        return self._to_volume_snapshot(as_dict(response.object, "POST snapshots").get("snapshot"))

    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot | str) -> bool:
        """Delete a volume snapshot (``DELETE /v2/snapshots/{id}``)."""
        self.connection.request(f"/v2/snapshots/{_snapshot_id(snapshot)}", method="DELETE")
        return True

    def delete_volume_snapshot(self, snapshot: VolumeSnapshot | str) -> bool:
        """libcloud's DigitalOcean name for ``destroy_volume_snapshot``."""
        return self.destroy_volume_snapshot(snapshot)

    # -- images -------------------------------------------------------------------------------

    def create_image(self, node: Node | str, name: str, description: str | None = None, *,
                     ex_wait: bool = True, timeout: float = 3600.0) -> NodeImage:
        """Snapshot a droplet's disk into a private image named ``name`` (the droplet's
        ``snapshot`` action) and return the image once DigitalOcean reports it done, within
        ``timeout`` seconds. ``description`` is set on the image afterwards. With
        ``ex_wait=False`` it returns at once: the image has no id yet (``id == ""``) and
        ``extra["action_id"]`` names the action to follow (``ex_wait_for_action``).
        ``list_images()`` includes the account's own images."""
        droplet_id = self._droplet_id(node)
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ValidationError("an image name is a non-empty string of at most 255 characters")
        if description is not None and not ex_wait:
            raise ValidationError("description needs ex_wait=True (it is set once the image exists)")
        response = self.connection.request(
            f"/v2/droplets/{droplet_id}/actions", data={"type": "snapshot", "name": name}, method="POST",
            outcome_hint=f"look for a private image named {name!r} before trying again")
        action = self._to_action(as_dict(response.object, "POST droplet action").get("action"))
        if not ex_wait:
            return NodeImage("", name, self, {"action_id": action.id, "droplet_id": droplet_id,
                                              "status": action.status})
        self.ex_wait_for_action(action, timeout=timeout)
        made = [i for i in self.list_images(ex_type="private") if i.name == name]
        if not made:
            raise MalformedResponseError(f"droplet {droplet_id}'s snapshot {name!r} completed but is not "
                                         "among the account's images", driver=self.name)
        image = max(made, key=lambda i: i.extra.get("created_at") or "")
        if description is not None:
            answer = self.connection.request(f"/v2/images/{image.id}", data={"description": description},
                                             method="PUT")
            image = self._to_image(as_dict(answer.object, "PUT /v2/images").get("image"))
        return image

    def delete_image(self, node_image: NodeImage | str | None = None, image: NodeImage | str | None = None) -> bool:
        """Delete a private image or droplet snapshot (``image=`` is libcloud's name)."""
        ref = object_id(alias(node_image, image, "node_image", "image"), "image")
        if not ref.isdigit():
            raise ValidationError(f"only private images (numeric ids) can be deleted, not {ref[:40]!r}")
        self.connection.request(f"/v2/images/{ref}", method="DELETE")
        return True

    # -- reserved IPs (libcloud's floating IP names) ------------------------------------------

    def ex_list_floating_ips(self) -> list[DigitalOceanReservedIP]:
        """The account's reserved IPs (``/v2/reserved_ips``)."""
        return self._list("/v2/reserved_ips", "reserved_ips", None, self._to_reserved_ip)

    def ex_get_floating_ip(self, ip: str) -> DigitalOceanReservedIP:
        """One reserved IP by address (NotFoundError when the account has no such address)."""
        return self._to_reserved_ip(self._member(f"/v2/reserved_ips/{_ip_address(ip)}", "reserved_ip"))

    def ex_create_floating_ip(self, location: NodeLocation | str) -> DigitalOceanReservedIP:
        """Reserve a new IP in ``location`` (not assigned to any droplet)."""
        response = self.connection.request(
            "/v2/reserved_ips", data={"region": self._region_slug(location)}, method="POST",
            outcome_hint="look for a new reserved IP (ex_list_floating_ips) before trying again")
        return self._to_reserved_ip(as_dict(response.object, "POST /v2/reserved_ips").get("reserved_ip"))

    def ex_delete_floating_ip(self, ip: DigitalOceanReservedIP | str) -> bool:
        """Release a reserved IP."""
        self.connection.request(f"/v2/reserved_ips/{_ip_address(ip)}", method="DELETE")
        return True

    def _ip_action(self, address: str, body: dict[str, Any], ex_wait: bool, timeout: float) -> None:
        response = self.connection.request(
            f"/v2/reserved_ips/{address}/actions", data=body, method="POST",
            outcome_hint=f"check reserved IP {address} (ex_get_floating_ip) before trying again")
        if ex_wait:
            action = self._to_action(as_dict(response.object, "POST reserved IP action").get("action"))
            self.ex_wait_for_action(action, timeout=timeout)

    def ex_attach_floating_ip_to_node(self, node: Node | str, ip: DigitalOceanReservedIP | str, *,
                                      ex_wait: bool = True, timeout: float = 600.0) -> bool:
        """Point a reserved IP at a droplet (``assign``), waiting for the action unless
        ``ex_wait=False``."""
        address = _ip_address(ip)
        droplet_id = self._droplet_id(node)
        self._ip_action(address, {"type": "assign", "droplet_id": int(droplet_id)}, ex_wait, timeout)
        if isinstance(ip, DigitalOceanReservedIP) and ex_wait:
            ip.node_id = droplet_id
        return True

    def ex_detach_floating_ip_from_node(self, node: Node | str, ip: DigitalOceanReservedIP | str, *,
                                        ex_wait: bool = True, timeout: float = 600.0) -> bool:
        """Unassign a reserved IP (``node`` is accepted as libcloud does and not used)."""
        address = _ip_address(ip)
        self._ip_action(address, {"type": "unassign"}, ex_wait, timeout)
        if isinstance(ip, DigitalOceanReservedIP) and ex_wait:
            ip.node_id = None
        return True

    # -- pricing ------------------------------------------------------------------------------

    def ex_volume_price(self, size: int = 1, location: NodeLocation | str | None = None) -> float | None:
        """Hourly USD price of a volume of ``size`` GiB. DigitalOcean's API gives no volume
        prices: this is ``pricing.json``'s ``storage.digitalocean.volume`` per-GiB rate."""
        from cloudkit.pricing import get_volume_price

        try:
            rate = get_volume_price("digitalocean")
        except CloudkitError:
            return None
        return None if rate is None else round(rate * check_volume_size(size), 6)
