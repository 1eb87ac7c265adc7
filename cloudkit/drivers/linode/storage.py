"""Linode Block Storage volumes, images from disks and IP addresses (API v4).

Mixed into ``LinodeNodeDriver`` (before ``NodeDriver``, so these methods replace the base's
"not implemented yet" stubs). libcloud 3.9.1's ``LinodeNodeDriverV4`` names and keywords;
where its positional order differs from libcloud's base (``create_volume(name, size)``,
``create_image(disk, ...)``) keywords work and the positional order is cloudkit's base.

What users rely on:

* a volume's ``extra["region"]`` is its region id (the location id; libcloud's key
  ``location`` too) and ``extra["linode_id"]`` the id (a string) of the Linode it is attached
  to, None when detached; its state is ``INUSE`` when attached and active;
* attach and detach return once Linode's event for them (``/v4/account/events``) is
  ``finished``, resize and clone once the volume is ``active`` again, image creation once the
  image is ``available``: each within ``timeout`` seconds (``WaitTimeoutError`` after), or at
  once with ``ex_wait=False``; once they return, ``list_volumes()`` shows the result;
* refusals are made before anything is sent, on fresh data: a volume the caller's object
  shows attached elsewhere is fetched once before being refused.

Linode has no volume snapshots (``ex_clone_volume`` copies a volume): the snapshot methods
raise ``NotImplementedError`` with that reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloudkit.driver import NodeDriver, object_id, refresh_in_place
from cloudkit.errors import MalformedResponseError, NotSupportedError, ProviderError, ValidationError
from cloudkit.models import Node, NodeImage, NodeLocation, StorageVolume, StorageVolumeState, VolumeSnapshot
from cloudkit.parsing import as_dict, as_list, parse_datetime, req, req_id
from cloudkit.surface import alias, not_yet

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.drivers.linode.disks import LinodeDisk

__all__ = ["MAX_VOLUME_GB", "MIN_VOLUME_GB", "NO_SNAPSHOTS", "LinodeIPAddress", "LinodeStorage"]

API = "/v4"
#: Volume sizes the API accepts, in GB (the description's resize maximum is 10240).
MIN_VOLUME_GB = 10
MAX_VOLUME_GB = 10240
NO_SNAPSHOTS = "Linode Block Storage has no volume snapshots (ex_clone_volume copies a volume)"
_VOLUME_LABEL = re.compile(r"^[a-zA-Z]((?!--|__)[a-zA-Z0-9-_])+$")
_VOLUME_STATES = {
    "creating": StorageVolumeState.CREATING,
    "active": StorageVolumeState.AVAILABLE,
    "resizing": StorageVolumeState.UPDATING,
    "key_rotating": StorageVolumeState.UPDATING,
    "contact_support": StorageVolumeState.ERROR,
}


@dataclass(eq=False)
class LinodeIPAddress:
    """An IP address of the account, in libcloud's positional order ``(inet, public, version,
    driver, extra)``; ``extra["node_id"]`` is the Linode it belongs to, ``extra["region"]`` its
    region."""

    inet: str
    public: bool
    version: str
    driver: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<LinodeIPAddress {self.inet} public={self.public} version={self.version}>"


def _volume_id(volume: Any) -> str:
    value = volume.id if isinstance(volume, StorageVolume) else object_id(volume, "volume")
    if not value.isdigit() or not value.isascii():
        raise ValidationError(f"a Linode volume id is a number, not {value[:40]!r}")
    return value


def _node_id(node: Any) -> str:
    value = object_id(node, "node")
    if not value.isdigit() or not value.isascii():
        raise ValidationError(f"a Linode id is a number, not {value[:40]!r}")
    return value


def check_volume_size(size: Any) -> int:
    """``size`` as an int within the API's 10 to 10240 GB."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValidationError(f"volume size is a whole number of GB, not {str(size)[:20]!r}")
    if not MIN_VOLUME_GB <= size <= MAX_VOLUME_GB:
        raise ValidationError(f"a Linode volume is {MIN_VOLUME_GB} to {MAX_VOLUME_GB} GB, not {size}")
    return size


def _check_label(name: Any, what: str = "volume label") -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 32 or not _VOLUME_LABEL.match(name):
        shown = repr(name[:60]) if isinstance(name, str) else type(name).__name__
        raise ValidationError(f"invalid Linode {what} {shown}: up to 32 letters, digits, '-' and '_', "
                              "starting with a letter, never '--' or '__'")
    return name


def _tags(tags: Any) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, Sequence) or not all(isinstance(t, str) for t in tags):
        raise ValidationError("tags must be a list of strings")
    return list(tags)


class LinodeStorage(NodeDriver):
    """Volumes, images from disks and IP addresses (Linode API v4)."""

    #: Seconds between polls while waiting for a volume, image or event.
    storage_poll_interval: float = 3.0

    if TYPE_CHECKING:  # pragma: no cover - provided by LinodeNodeDriver
        def _paged(self, path: str, headers: Mapping[str, str] | None = None,
                   transform: Callable[[Any], Any] | None = None) -> list[Any]: ...

        def _unpaged(self, path: str) -> list[Any]: ...

        def _to_image(self, data: Any) -> NodeImage: ...

        def ex_get_image(self, image_id: str) -> NodeImage: ...

        def ex_list_disks(self, node: Node | str) -> list[LinodeDisk]: ...

    # -- parsing ------------------------------------------------------------------------------

    def _to_volume(self, data: Any) -> StorageVolume:
        what = "Linode volume"
        obj = as_dict(data, what)
        status = obj.get("status")
        linode = obj.get("linode_id")
        linode_id = str(linode) if isinstance(linode, int) and not isinstance(linode, bool) else None
        state = _VOLUME_STATES.get(status, StorageVolumeState.UNKNOWN) if isinstance(status, str) else \
            StorageVolumeState.UNKNOWN
        if state is StorageVolumeState.AVAILABLE and linode_id is not None:
            state = StorageVolumeState.INUSE
        tags = obj.get("tags") or []
        region = obj.get("region") if isinstance(obj.get("region"), str) else None
        extra: dict[str, Any] = {
            "region": region,
            "location": region,  # libcloud's key
            "linode_id": linode_id,
            "linode_label": obj.get("linode_label") if isinstance(obj.get("linode_label"), str) else None,
            "filesystem_path": obj.get("filesystem_path"),
            "status": status,
            "state": state,
            "tags": [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
            "created": parse_datetime(obj.get("created")),
            "updated": parse_datetime(obj.get("updated")),
            "hardware_type": obj.get("hardware_type"),
            "encryption": obj.get("encryption"),
        }
        size = obj.get("size")
        if isinstance(size, bool) or not isinstance(size, int):
            raise MalformedResponseError(f"{what}: size is not a whole number", driver=self.name)
        return StorageVolume(req_id(obj, "id", what), req(obj, "label", str, what), size, self, state, extra)

    def _to_address(self, data: Any) -> LinodeIPAddress:
        what = "Linode IP address"
        obj = as_dict(data, what)
        linode = obj.get("linode_id")
        extra = {
            "gateway": obj.get("gateway"), "subnet_mask": obj.get("subnet_mask"), "prefix": obj.get("prefix"),
            "rdns": obj.get("rdns"), "region": obj.get("region"),
            "node_id": str(linode) if isinstance(linode, int) and not isinstance(linode, bool) else None,
        }
        return LinodeIPAddress(req(obj, "address", str, what), obj.get("public") is True,
                               str(obj.get("type") or "ipv4"), self, extra)

    # -- helpers ------------------------------------------------------------------------------

    def _poll(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        return self.poll_until(check, timeout=timeout, interval=self.storage_poll_interval, what=what)

    def _refresh(self, volume: StorageVolume | str) -> StorageVolume:
        """The volume as the API describes it now; a caller's object is refreshed in place."""
        fresh = self.ex_get_volume(_volume_id(volume))
        if isinstance(volume, StorageVolume):
            refresh_in_place(volume, fresh)
        return fresh

    def _node_region(self, node: Node | str) -> tuple[str, str | None]:
        """(Linode id, region id): from the Node when it names its region (a Linode's region
        changes only by a migration the caller started), else from the API."""
        linode_id = _node_id(node)
        region = node.extra.get("location") if isinstance(node, Node) else None
        if not isinstance(region, str) or not region:
            region = self.get_node(linode_id).extra.get("location")
        return linode_id, region if isinstance(region, str) else None

    def _last_event(self, volume_id: str, action: str) -> dict[str, Any] | None:
        """The newest ``action`` event on the volume (filtered by the API, checked here)."""
        wanted = {"entity.id": int(volume_id), "entity.type": "volume", "action": action,
                  "+order_by": "created", "+order": "desc"}
        body = self.connection.request(f"{API}/account/events", params={"page": 1, "page_size": 25},
                                       headers={"X-Filter": json.dumps(wanted, separators=(",", ":"))}).object
        page = as_dict(body, "Linode events")
        best: dict[str, Any] | None = None
        for item in as_list(page.get("data") or [], "Linode events data"):
            entity = item.get("entity") if isinstance(item, dict) else None
            if not isinstance(entity, dict) or str(entity.get("id")) != volume_id or item.get("action") != action:
                continue
            if isinstance(item.get("id"), int) and (best is None or item["id"] > best["id"]):
                best = item
        return best

    def _event_id(self, volume_id: str, action: str, ex_wait: bool) -> int:
        """The newest ``action`` event id before a request (0 when none, or when not waiting)."""
        if not ex_wait:
            return 0
        last = self._last_event(volume_id, action)
        return int(last["id"]) if last else 0

    def _wait_event(self, volume_id: str, action: str, after: int, timeout: float) -> None:
        def finished() -> bool:
            event = self._last_event(volume_id, action)
            if event is None or event["id"] <= after:
                return False
            if event.get("status") == "failed":
                raise ProviderError(f"Linode event {event['id']} ({action}) on volume {volume_id} failed",
                                    None, code="failed", driver=self.name)
            return event.get("status") == "finished"

        self._poll(finished, timeout, f"{action} of volume {volume_id}")

    def _wait_active(self, volume_id: str, timeout: float, what: str,
                     done: Callable[[StorageVolume], bool] = lambda v: True) -> StorageVolume:
        def ready() -> StorageVolume | None:
            fresh = self.ex_get_volume(volume_id)
            return fresh if fresh.extra.get("status") == "active" and done(fresh) else None

        result: StorageVolume = self._poll(ready, timeout, what)
        return result

    @staticmethod
    def _update(volume: StorageVolume | str, fresh: StorageVolume) -> None:
        if isinstance(volume, StorageVolume) and volume is not fresh:
            volume.name, volume.size, volume.state = fresh.name, fresh.size, fresh.state
            volume.extra = {**volume.extra, **fresh.extra}

    # -- volumes ------------------------------------------------------------------------------

    def list_volumes(self) -> list[StorageVolume]:
        """Every Block Storage volume (``extra["region"]``: its region id;
        ``extra["linode_id"]``: the Linode it is attached to, None when detached)."""
        return self._paged("/volumes", transform=self._to_volume)

    def ex_get_volume(self, volume_id: StorageVolume | str) -> StorageVolume:
        """One volume by id."""
        return self._to_volume(self.connection.request(f"{API}/volumes/{_volume_id(volume_id)}").object)

    def create_volume(self, size: int, name: str, location: NodeLocation | str | None = None,
                      snapshot: Any = None, node: Node | str | None = None,
                      tags: Sequence[str] | None = None) -> StorageVolume:
        """Create a volume of ``size`` GB (10 to 10240) labelled ``name`` in ``location``, or
        attached at once to ``node`` (in the node's region; when both are given they must
        match). libcloud's Linode order is ``(name, size, ...)``: use keywords. Linode volumes
        cannot be made from a snapshot."""
        if snapshot is not None:
            raise NotSupportedError(self.name, "create_volume(snapshot=...)", NO_SNAPSHOTS)
        body: dict[str, Any] = {"label": _check_label(name), "size": check_volume_size(size)}
        region = object_id(location, "location") if location is not None else None
        if node is not None:
            linode_id, node_region = self._node_region(node)
            if region is not None and node_region is not None and region != node_region:
                raise ValidationError(f"location {region} differs from Linode {linode_id}'s region "
                                      f"{node_region}: a volume attaches only to a Linode in its own region")
            body["linode_id"] = int(linode_id)
        elif region is None:
            raise ValidationError("create_volume needs location= or node=")
        else:
            body["region"] = region
        if tags is not None:
            body["tags"] = _tags(tags)
        response = self.connection.request(f"{API}/volumes", data=body, method="POST",
                                           outcome_hint=f"look for a volume labelled {name!r} (list_volumes)")
        return self._to_volume(response.object)

    def attach_volume(self, node: Node | str, volume: StorageVolume | str, device: str | None = None,
                      persist_across_boots: bool = True, *, ex_wait: bool = True,
                      timeout: float = 600.0) -> bool:
        """Attach ``volume`` to a Linode and, unless ``ex_wait=False``, wait for Linode's
        ``volume_attach`` event to finish. ``device`` is accepted for libcloud's base and
        ignored (Linode names the device; see ``extra["filesystem_path"]``).

        Refused before anything is sent (``ValidationError``) when the volume and the Linode are
        in different regions (naming both), or when the volume is attached to another Linode as
        the API says now. Attaching to the Linode it is already on does nothing.
        """
        linode_id, node_region = self._node_region(node)
        cached = isinstance(volume, StorageVolume)
        current = volume if isinstance(volume, StorageVolume) else self._refresh(volume)
        if cached and current.extra.get("linode_id") not in (None, linode_id):
            current = self._refresh(current)
        region = current.extra.get("region")
        if node_region and region and node_region != region:
            raise ValidationError(f"volume {current.id} is in region {region} and Linode {linode_id} in "
                                  f"{node_region}: a volume attaches only to a Linode in its own region")
        attached = current.extra.get("linode_id")
        if attached == linode_id:
            return True
        if attached is not None:
            raise ValidationError(f"volume {current.id} is attached to Linode {attached}; detach it first "
                                  "(detach_volume)")
        if not isinstance(persist_across_boots, bool):
            raise ValidationError("persist_across_boots must be True or False")
        before = self._event_id(current.id, "volume_attach", ex_wait)
        response = self.connection.request(
            f"{API}/volumes/{current.id}/attach", method="POST",
            data={"linode_id": int(linode_id), "persist_across_boots": persist_across_boots})
        fresh = self._to_volume(response.object)
        if ex_wait:
            self._wait_event(current.id, "volume_attach", before, timeout)
            fresh = self.ex_get_volume(current.id)
        self._update(volume, fresh)
        return True

    def detach_volume(self, volume: StorageVolume | str, *, ex_wait: bool = True,
                      timeout: float = 600.0) -> bool:
        """Detach ``volume`` and, unless ``ex_wait=False``, wait for Linode's
        ``volume_detach`` event to finish. A volume the API shows detached is left as is."""
        cached = isinstance(volume, StorageVolume)
        current = volume if isinstance(volume, StorageVolume) else self._refresh(volume)
        if cached and current.extra.get("linode_id") is None:
            current = self._refresh(current)
            if current.extra.get("linode_id") is None:
                return True
        before = self._event_id(current.id, "volume_detach", ex_wait)
        self.connection.request(f"{API}/volumes/{current.id}/detach", method="POST")
        if ex_wait:
            self._wait_event(current.id, "volume_detach", before, timeout)
            self._update(volume, self.ex_get_volume(current.id))
        return True

    def destroy_volume(self, volume: StorageVolume | str, *, ex_detach: bool = False,
                       timeout: float = 600.0) -> bool:
        """Delete a volume. One attached to a Linode (as the API says now) is refused with
        ``ValidationError`` naming it, unless ``ex_detach=True``: then it is detached first
        (waiting for that) and deleted."""
        volume_id = _volume_id(volume)
        cached = volume.extra.get("linode_id", "?") if isinstance(volume, StorageVolume) else "?"
        if cached is not None:
            current = self._refresh(volume)
            attached = current.extra.get("linode_id")
            if attached is not None:
                if not ex_detach:
                    raise ValidationError(f"volume {volume_id} is attached to Linode {attached}; detach it "
                                          "first, or pass ex_detach=True")
                self.detach_volume(current, timeout=timeout)
        self.connection.request(f"{API}/volumes/{volume_id}", method="DELETE")
        return True

    def ex_resize_volume(self, volume: StorageVolume | str, size: int, *, ex_wait: bool = True,
                         timeout: float = 600.0) -> bool:
        """Grow a volume to ``size`` GB (volumes only grow) and, unless ``ex_wait=False``,
        wait until it is active at that size."""
        new_size = check_volume_size(size)
        cached = isinstance(volume, StorageVolume)
        current = volume if isinstance(volume, StorageVolume) else self._refresh(volume)
        if cached and current.size >= new_size:
            current = self._refresh(current)
        if current.size == new_size:
            return True
        if current.size > new_size:
            raise ValidationError(f"volume {current.id} is {current.size} GB: volumes only grow, not to {new_size}")
        self.connection.request(f"{API}/volumes/{current.id}/resize", data={"size": new_size}, method="POST")
        if ex_wait:
            fresh = self._wait_active(current.id, timeout, f"resize of volume {current.id}",
                                      lambda v: v.size >= new_size)
            self._update(volume, fresh)
        return True

    def ex_clone_volume(self, volume: StorageVolume | str, name: str, *, ex_wait: bool = True,
                        timeout: float = 1800.0) -> StorageVolume:
        """Copy a volume (same region and size) into a new one labelled ``name`` and, unless
        ``ex_wait=False``, wait until the copy is active."""
        volume_id = _volume_id(volume)
        response = self.connection.request(f"{API}/volumes/{volume_id}/clone", data={"label": _check_label(name)},
                                           method="POST",
                                           outcome_hint=f"look for a volume labelled {name!r} (list_volumes)")
        clone = self._to_volume(response.object)
        if ex_wait and clone.extra.get("status") != "active":
            clone = self._wait_active(clone.id, timeout, f"clone {clone.id} of volume {volume_id}")
        return clone

    # -- no volume snapshots on Linode (libcloud's base signatures; raise before any request) --

    @not_yet(NO_SNAPSHOTS)
    def list_volume_snapshots(self, volume: StorageVolume | str) -> list[VolumeSnapshot]:
        """Not supported: Linode has no volume snapshots."""
        raise self._not_supported("list_volume_snapshots")

    @not_yet(NO_SNAPSHOTS)
    def create_volume_snapshot(self, volume: StorageVolume | str, name: str | None = None) -> VolumeSnapshot:
        """Not supported: Linode has no volume snapshots (``ex_clone_volume`` copies a volume)."""
        raise self._not_supported("create_volume_snapshot")

    @not_yet(NO_SNAPSHOTS)
    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot | str) -> bool:
        """Not supported: Linode has no volume snapshots."""
        raise self._not_supported("destroy_volume_snapshot")

    # -- images -------------------------------------------------------------------------------

    def create_image(self, node: Node | str | None = None, name: str | None = None,
                     description: str | None = None, disk: LinodeDisk | str | int | None = None, *,
                     ex_wait: bool = True, timeout: float = 3600.0) -> NodeImage:
        """Make a private image of a disk: ``disk=`` (libcloud's Linode keyword), or the
        largest non-swap disk of ``node``. Unless ``ex_wait=False``, return once the image is
        ``available`` (within ``timeout`` seconds). ``list_images()`` includes the account's own
        images."""
        if disk is None:
            if node is None:
                raise ValidationError("create_image needs node= or disk=")
            disks = [d for d in self.ex_list_disks(node) if d.filesystem != "swap"]
            if not disks:
                raise ValidationError(f"Linode {_node_id(node)} has no disk to make an image of")
            disk = max(disks, key=lambda d: d.size)
        disk_id = str(getattr(disk, "id", "")) if hasattr(disk, "filesystem") else object_id(disk, "disk")
        if not disk_id.isdigit():
            raise ValidationError(f"a disk id is a number, not {disk_id[:40]!r}")
        body: dict[str, Any] = {"disk_id": int(disk_id)}
        if name is not None:
            if not isinstance(name, str) or not name.strip() or len(name) > 50:
                raise ValidationError("an image label is a non-empty string of at most 50 characters")
            body["label"] = name
        if description is not None:
            if not isinstance(description, str) or len(description) > 65000:
                raise ValidationError("description must be a string")
            body["description"] = description
        response = self.connection.request(f"{API}/images", data=body, method="POST",
                                           outcome_hint="look for a new private image (list_images)")
        image = self._to_image(response.object)
        if ex_wait and image.extra.get("status") != "available":
            image_id = image.id

            def ready() -> NodeImage | None:
                fresh = self.ex_get_image(image_id)
                if fresh.extra.get("status") not in ("creating", "pending_upload", "available"):
                    raise ProviderError(f"image {image_id} ended {fresh.extra.get('status')}", None,
                                        driver=self.name)
                return fresh if fresh.extra.get("status") == "available" else None

            image = self._poll(ready, timeout, f"image {image_id}")
        return image

    def delete_image(self, node_image: NodeImage | str | None = None, image: NodeImage | str | None = None) -> bool:
        """Delete a private image (``private/123``; ``image=`` is libcloud's name)."""
        ref = object_id(alias(node_image, image, "node_image", "image"), "image")
        prefix, _, number = ref.partition("/")
        if prefix != "private" or not number.isdigit():
            raise ValidationError(f"only private images (private/<number>) can be deleted, not {ref[:40]!r}")
        self.connection.request(f"{API}/images/{ref}", method="DELETE")
        return True

    # -- IP addresses -------------------------------------------------------------------------

    def ex_list_addresses(self) -> list[LinodeIPAddress]:
        """Every IP address on the account (``/v4/networking/ips``)."""
        return [self._to_address(item) for item in self._unpaged("/networking/ips")]

    def ex_list_node_addresses(self, node: Node | str) -> list[LinodeIPAddress]:
        """A Linode's IPv4 addresses, public then private (as libcloud)."""
        body = as_dict(self.connection.request(f"{API}/linode/instances/{_node_id(node)}/ips").object,
                       "Linode IPs")
        ipv4 = as_dict(body.get("ipv4") or {}, "Linode IPs: ipv4")
        entries = [*as_list(ipv4.get("public") or [], "ipv4.public"),
                   *as_list(ipv4.get("private") or [], "ipv4.private")]
        return [self._to_address(entry) for entry in entries]

    def ex_allocate_private_address(self, node: Node | str, address_type: str = "ipv4") -> LinodeIPAddress:
        """Give a Linode a private IPv4 address. Refused (before sending) when it has one
        already, as the API says now."""
        if address_type != "ipv4":
            raise ValidationError("Linode allocates only 'ipv4' private addresses")
        linode_id = _node_id(node)
        if not isinstance(node, Node) or node.private_ips:
            fresh = self.get_node(linode_id)
            if fresh.private_ips:
                raise ValidationError(f"Linode {linode_id} already has a private address ({fresh.private_ips[0]})")
        response = self.connection.request(f"{API}/linode/instances/{linode_id}/ips", method="POST",
                                           data={"type": "ipv4", "public": False})
        return self._to_address(response.object)

    def ex_share_address(self, node: Node | str, addresses: Sequence[LinodeIPAddress | str]) -> bool:
        """Let a Linode bring up these addresses too (IP failover, ``/v4/networking/ipv4/share``)."""
        if isinstance(addresses, str):
            raise ValidationError("addresses must be a list")
        ips = [a.inet if isinstance(a, LinodeIPAddress) else a for a in addresses]
        if not all(isinstance(ip, str) and ip for ip in ips):
            raise ValidationError("addresses must be LinodeIPAddress objects or address strings")
        self.connection.request(f"{API}/networking/ipv4/share", method="POST",
                                data={"linode_id": int(_node_id(node)), "ips": ips})
        return True

    # -- pricing ------------------------------------------------------------------------------

    def ex_volume_price(self, size: int = 1, location: NodeLocation | str | None = None) -> float | None:
        """Hourly USD price of a volume of ``size`` GB (in ``location`` when given), from the
        API's ``/v4/volumes/types``; None when it lists no volume type."""
        count = check_volume_size(size) if size != 1 else 1
        region = object_id(location, "location") if location is not None else None
        for item in self._unpaged("/volumes/types"):
            kind = as_dict(item, "Linode volume type")
            if kind.get("id") != "volume":
                continue
            price: dict[str, Any] = kind["price"] if isinstance(kind.get("price"), dict) else {}
            for entry in kind.get("region_prices") or []:
                if isinstance(entry, dict) and region is not None and entry.get("id") == region:
                    price = entry
            hourly = price.get("hourly")
            if isinstance(hourly, (int, float)) and not isinstance(hourly, bool):
                return round(float(hourly) * count, 6)
            monthly = price.get("monthly")
            if isinstance(monthly, (int, float)) and not isinstance(monthly, bool):
                return round(float(monthly) / 730 * count, 6)
        return None
