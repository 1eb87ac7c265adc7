"""Linode Block Storage volumes, disks, private images and IP addresses: a part of
:class:`~.api.LinodeAPI`, per the storage cut of Linode's OpenAPI description.

Behaviour worth knowing:

- ``POST /volumes`` answers the volume ``creating`` (10 to 10240 GB, a label unique on the
  account, in ``region`` or attached at once to ``linode_id``); it is ``active`` after
  ``action_seconds``. ``attach`` sets ``linode_id`` at once and records a ``volume_attach``
  event that is ``finished`` after ``action_seconds``; ``detach`` records ``volume_detach``
  and clears ``linode_id`` when it finishes; ``resize`` (only larger) and ``clone`` pass
  through ``resizing``/``creating``. Refused with 400: a Linode in another region, a volume
  attached elsewhere, a volume that is not ``active``, deleting an attached volume;
- every Linode has two disks (its image's ext4 disk and a swap disk) listed at
  ``/linode/instances/{id}/disks``; ``POST /images`` from a disk answers a
  ``private/N`` image ``creating`` that is ``available`` after ``action_seconds`` (and
  listed by ``/images``); private images can be updated and deleted;
- ``/networking/ips`` lists every address; ``POST /linode/instances/{id}/ips`` (or
  ``/networking/ips`` with ``linode_id``) adds a private IPv4 (one per Linode) or a public
  one; ``/networking/ipv4/share`` shares addresses of Linodes in the same region.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, iso_now
from cloudkit.testing.simulator.linode.catalog import Instance

__all__ = ["STORAGE_ROUTES", "Storage"]

_V = r"/v4(?:beta)?"
_ID = r"(\d+)"
MIN_VOLUME_GB, MAX_VOLUME_GB = 10, 10240
_LABEL = re.compile(r"^[a-zA-Z]((?!--|__)[a-zA-Z0-9-_])+$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")

STORAGE_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", rf"{_V}/volumes", "list_volumes"),
    ("POST", rf"{_V}/volumes", "create_volume"),
    ("GET", rf"{_V}/volumes/types", "list_volume_types"),
    ("GET", rf"{_V}/volumes/{_ID}", "get_volume"),
    ("PUT", rf"{_V}/volumes/{_ID}", "update_volume"),
    ("DELETE", rf"{_V}/volumes/{_ID}", "delete_volume"),
    ("POST", rf"{_V}/volumes/{_ID}/attach", "attach_volume"),
    ("POST", rf"{_V}/volumes/{_ID}/detach", "detach_volume"),
    ("POST", rf"{_V}/volumes/{_ID}/resize", "resize_volume"),
    ("POST", rf"{_V}/volumes/{_ID}/clone", "clone_volume"),
    ("GET", rf"{_V}/linode/instances/{_ID}/disks", "list_disks"),
    ("POST", rf"{_V}/images", "create_image"),
    ("PUT", rf"{_V}/images/(private/\d+)", "update_image"),
    ("DELETE", rf"{_V}/images/(private/\d+)", "delete_image"),
    ("POST", rf"{_V}/linode/instances/{_ID}/ips", "allocate_ip"),
    ("POST", rf"{_V}/networking/ips", "allocate_account_ip"),
    ("GET", rf"{_V}/networking/ips/([0-9.]+)", "get_ip"),
    ("POST", rf"{_V}/networking/ipv4/share", "share_ips"),
)


class Storage(ProviderAPI):
    """The volume, disk, private image and IP address handlers."""

    instances: dict[int, Instance]
    images: dict[str, dict[str, Any]]
    events: dict[int, dict[str, Any]]
    regions: dict[str, dict[str, Any]]
    profile: dict[str, Any]
    _event_ids: Iterator[int]
    _seq: Iterator[int]

    if TYPE_CHECKING:  # pragma: no cover - provided by LinodeAPI
        def _body(self, request: SimRequest, required: bool = True) -> dict[str, Any]: ...

        def _filter(self, request: SimRequest) -> dict[str, Any] | None: ...

        def _instance(self, linode_id: str) -> Instance: ...

        def _private_ip(self, seq: int) -> str: ...

        def _address(self, inst: Instance, address: str, public: bool) -> dict[str, Any]: ...

    def _storage_init(self) -> None:
        self.volumes: dict[int, dict[str, Any]] = {}
        self._volume_ids = itertools.count(880_001)
        self._image_ids = itertools.count(3_300_101)
        self._disk_ids = itertools.count(25_001)
        #: Linode id → its disks (made the first time they are asked for)
        self.disks: dict[int, list[dict[str, Any]]] = {}
        #: Linode id → addresses of other Linodes shared with it
        self.shared_ips: dict[int, list[str]] = {}

    # -- helpers ----------------------------------------------------------------------------------

    def _volume_event(self, action: str, v: dict[str, Any], inst: Instance | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": next(self._event_ids), "action": action, "created": iso_now(with_z=False), "duration": 0,
            "entity": {"id": v["id"], "label": v["label"], "type": "volume", "url": f"/v4/volumes/{v['id']}"},
            "message": "", "percent_complete": 0, "rate": None, "read": False, "seen": False,
            "status": "started", "time_remaining": None, "username": self.profile["username"],
        }
        if inst is not None:
            event["secondary_entity"] = {"id": str(inst.id), "label": inst.label, "type": "linode",
                                         "url": f"/v4/linode/instances/{inst.id}"}
        self.events[event["id"]] = event
        return event

    def _volume_job(self, v: dict[str, Any], action: str, effect: Callable[[], None] | None,
                    inst: Instance | None = None, transient: str | None = None) -> None:
        """Record a started event (and put the volume in ``transient``); after
        ``action_seconds`` apply ``effect``, make the volume ``active`` and finish the event."""
        event = self._volume_event(action, v, inst)
        if transient is not None:
            v["status"] = transient

        def finish() -> None:
            event["percent_complete"] = 100
            event["duration"] = self.options.action_seconds
            if v["id"] not in self.volumes:
                event["status"] = "failed"
                return
            if effect is not None:
                effect()
            v["status"] = "active"
            v["updated"] = iso_now(with_z=False)
            event["status"] = "finished"
            self.changed()

        self.after(self.options.action_seconds, finish)
        self.changed()

    def _volume(self, volume_id: str) -> dict[str, Any]:
        return self.found(self.volumes, int(volume_id), "Not found")

    def _check_volume_label(self, label: Any, current: int | None = None) -> str:
        if not isinstance(label, str) or not 1 <= len(label) <= 32 or not _LABEL.match(label):
            self.fail(400, "Label must be 1-32 letters, digits, '-' and '_', starting with a letter, "
                           "without two of '-' or '_' in a row", field="label")
        if any(v["label"] == label and v["id"] != current for v in self.volumes.values()):
            self.fail(400, "Label must be unique among your volumes", field="label")
        return label

    def _check_tags_list(self, tags: Any) -> list[str]:
        if tags is None:
            return []
        if not isinstance(tags, list) or not all(isinstance(t, str) and 3 <= len(t) <= 50 for t in tags):
            self.fail(400, "tags must be a list of 3-50 character strings", field="tags")
        return list(dict.fromkeys(tags))

    def _attach_checks(self, v: dict[str, Any], inst: Instance) -> None:
        if inst.region != v["region"]:
            self.fail(400, f"Volume and Linode must be in the same region (the volume is in {v['region']}, "
                           f"the Linode in {inst.region})", field="linode_id")
        if v["linode_id"] is not None:
            self.fail(400, f"Volume is already attached to Linode {v['linode_id']}.", field="linode_id")
        if v["status"] not in ("active", "creating"):  # an attach queues behind the creation
            self.fail(400, f"Volume {v['id']} is busy ({v['status']}).")

    def _link(self, v: dict[str, Any], inst: Instance | None) -> None:
        v["linode_id"] = inst.id if inst is not None else None
        v["linode_label"] = inst.label if inst is not None else None

    # -- volumes ----------------------------------------------------------------------------------

    def list_volumes(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.volumes.values()))

    def get_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        return self.json_response(200, self._volume(volume_id))

    def list_volume_types(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, [{
            "id": "volume", "label": "Storage Volume", "price": {"hourly": 0.00015, "monthly": 0.1},
            "region_prices": [{"id": "br-gru", "hourly": 0.00021, "monthly": 0.14}], "transfer": 0}])

    def create_volume(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        label = self._check_volume_label(body.get("label"))
        size = body.get("size", 20)
        if isinstance(size, bool) or not isinstance(size, int) or not MIN_VOLUME_GB <= size <= MAX_VOLUME_GB:
            self.fail(400, f"Size must be between {MIN_VOLUME_GB} and {MAX_VOLUME_GB}", field="size")
        region, linode_id = body.get("region"), body.get("linode_id")
        inst = None
        if linode_id is not None:
            if isinstance(linode_id, bool) or not isinstance(linode_id, int) or linode_id not in self.instances:
                self.fail(400, "Linode not found", field="linode_id")
            inst = self.instances[linode_id]
            if region is not None and region != inst.region:
                self.fail(400, "Volume and Linode must be in the same region", field="region")
            region = inst.region
        if not isinstance(region, str) or region not in self.regions:
            self.fail(400, "region is required when no linode_id is given", field="region")
        tags = self._check_tags_list(body.get("tags"))
        now = iso_now(with_z=False)
        v: dict[str, Any] = {
            "id": next(self._volume_ids), "label": label, "status": "creating", "size": size, "region": region,
            "linode_id": None, "linode_label": None,
            "filesystem_path": f"/dev/disk/by-id/scsi-0Linode_Volume_{label}", "tags": tags,
            "created": now, "updated": now, "hardware_type": "nvme", "encryption": "disabled"}
        self.volumes[v["id"]] = v
        if inst is not None:
            self._link(v, inst)
        self._volume_job(v, "volume_create", None)
        return self.json_response(200, v)

    def update_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        v = self._volume(volume_id)
        body = self._body(request)
        if "label" in body:
            v["label"] = self._check_volume_label(body["label"], current=v["id"])
        if "tags" in body:
            v["tags"] = self._check_tags_list(body["tags"])
        v["updated"] = iso_now(with_z=False)
        self.changed()
        return self.json_response(200, v)

    def delete_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        v = self._volume(volume_id)
        if v["linode_id"] is not None:
            self.fail(400, "Volume must be detached before it can be deleted.")
        del self.volumes[v["id"]]
        event = self._volume_event("volume_delete", v)
        event.update(status="finished", percent_complete=100)
        self.changed()
        return self.json_response(200, {})

    def attach_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        v = self._volume(volume_id)
        body = self._body(request)
        linode_id = body.get("linode_id")
        if isinstance(linode_id, bool) or not isinstance(linode_id, int):
            self.fail(400, "linode_id is required", field="linode_id")
        if linode_id not in self.instances:
            self.fail(404, "Not found")
        persist = body.get("persist_across_boots", True)
        if not isinstance(persist, bool):
            self.fail(400, "persist_across_boots must be a boolean", field="persist_across_boots")
        inst = self.instances[linode_id]
        self._attach_checks(v, inst)
        self._link(v, inst)
        self._volume_job(v, "volume_attach", None, inst)
        return self.json_response(200, v)

    def detach_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        v = self._volume(volume_id)
        if v["linode_id"] is None:
            self.fail(400, "Volume is not attached to a Linode.")
        inst = self.instances.get(v["linode_id"])
        self._volume_job(v, "volume_detach", lambda: self._link(v, None), inst)
        return self.json_response(200, {})

    def resize_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        v = self._volume(volume_id)
        size = self._body(request).get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size > MAX_VOLUME_GB:
            self.fail(400, f"Size must be a whole number of GB, at most {MAX_VOLUME_GB}", field="size")
        if size <= v["size"]:
            self.fail(400, "Volumes can only be resized up.", field="size")
        if v["status"] != "active":
            self.fail(400, f"Volume {v['id']} is busy ({v['status']}).")
        self._volume_job(v, "volume_resize", lambda: v.update(size=size), transient="resizing")
        return self.json_response(200, v)

    def clone_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        source = self._volume(volume_id)
        label = self._check_volume_label(self._body(request).get("label"))
        if source["status"] != "active":
            self.fail(400, f"Volume {source['id']} is busy ({source['status']}).")
        now = iso_now(with_z=False)
        clone = {**source, "id": next(self._volume_ids), "label": label, "status": "creating", "linode_id": None,
                 "linode_label": None, "filesystem_path": f"/dev/disk/by-id/scsi-0Linode_Volume_{label}",
                 "created": now, "updated": now, "tags": list(source["tags"])}
        self.volumes[clone["id"]] = clone
        self._volume_job(clone, "volume_clone", None)
        return self.json_response(200, clone)

    def release_linode(self, linode_id: int) -> None:
        """Detach a deleted Linode's volumes."""
        for v in self.volumes.values():
            if v["linode_id"] == linode_id:
                self._link(v, None)
        self.disks.pop(linode_id, None)
        self.shared_ips.pop(linode_id, None)

    # -- disks and images -------------------------------------------------------------------------

    def _disks(self, inst: Instance) -> list[dict[str, Any]]:
        disks = self.disks.get(inst.id)
        if disks is None:
            swap = 512
            image = self.images.get(inst.image or "")
            label = f"{image['label']} Disk" if image else "Disk"
            disks = self.disks[inst.id] = [
                {"id": next(self._disk_ids), "label": label, "status": "ready", "size": inst.type["disk"] - swap,
                 "filesystem": "ext4", "created": inst.created, "updated": inst.created},
                {"id": next(self._disk_ids), "label": f"{swap} MB Swap Image", "status": "ready", "size": swap,
                 "filesystem": "swap", "created": inst.created, "updated": inst.created}]
        return disks

    def list_disks(self, request: SimRequest, linode_id: str) -> SimResponse:
        return self.paged_list(request, self._disks(self._instance(linode_id)))

    def create_image(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        disk_id = body.get("disk_id")
        if isinstance(disk_id, bool) or not isinstance(disk_id, int):
            self.fail(400, "disk_id is required", field="disk_id")
        found = [(inst, disk) for inst in self.instances.values() for disk in self._disks(inst)
                 if disk["id"] == disk_id]
        if not found:
            self.fail(400, "Disk not found", field="disk_id")
        inst, disk = found[0]
        if disk["filesystem"] == "swap":
            self.fail(400, "Cannot make an image of a swap disk", field="disk_id")
        label = body.get("label", disk["label"])
        if not isinstance(label, str) or not label.strip() or len(label) > 50:
            self.fail(400, "Label must be 1-50 characters", field="label")
        description = body.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > 65000):
            self.fail(400, "description must be a string", field="description")
        now = iso_now(with_z=False)
        image_id = f"private/{next(self._image_ids)}"
        size = min(disk["size"], 6144)
        image: dict[str, Any] = {
            "id": image_id, "label": label, "description": description or None, "created": now, "updated": now,
            "created_by": self.profile["username"], "vendor": None, "is_public": False, "deprecated": False,
            "size": size, "total_size": size, "status": "creating", "type": "manual", "capabilities": [],
            "tags": [], "eol": None, "expiry": None, "regions": [{"region": inst.region, "status": "pending"}]}
        self.images[image_id] = image

        def available() -> None:
            image.update(status="available", updated=iso_now(with_z=False),
                         regions=[{"region": inst.region, "status": "available"}])
            self.changed()

        self.after(self.options.action_seconds, available)
        self.changed()
        return self.json_response(200, image)

    def _private_image(self, image_id: str) -> dict[str, Any]:
        return self.found(self.images, image_id, "Not found")

    def update_image(self, request: SimRequest, image_id: str) -> SimResponse:
        image = self._private_image(image_id)
        body = self._body(request)
        for field in ("label", "description"):
            if field in body:
                if not isinstance(body[field], str) or (field == "label" and not body[field].strip()):
                    self.fail(400, f"{field} must be a non-empty string", field=field)
                image[field] = body[field]
        image["updated"] = iso_now(with_z=False)
        self.changed()
        return self.json_response(200, image)

    def delete_image(self, request: SimRequest, image_id: str) -> SimResponse:
        self._private_image(image_id)
        del self.images[image_id]
        self.changed()
        return self.json_response(200, {})

    # -- IP addresses -----------------------------------------------------------------------------

    def _owner(self, address: str) -> Instance | None:
        return next((i for i in self.instances.values() if address in i.ipv4), None)

    def get_ip(self, request: SimRequest, address: str) -> SimResponse:
        inst = self._owner(address)
        if inst is None:
            self.fail(404, "Not found")
        return self.json_response(200, self._address(inst, address, not address.startswith("192.168.")))

    def _allocate(self, inst: Instance, body: dict[str, Any]) -> SimResponse:
        if body.get("type") != "ipv4":
            self.fail(400, "Only ipv4 addresses can be allocated", field="type")
        public = body.get("public")
        if not isinstance(public, bool):
            self.fail(400, "public must be a boolean", field="public")
        if public:
            n = next(self._seq)
            address = f"203.0.113.{n % 254 + 1}"
            while self._owner(address) is not None:
                n += 1
                address = f"203.0.113.{n % 254 + 1}"
        else:
            if any(a.startswith("192.168.") for a in inst.ipv4):
                self.fail(400, "Linode already has a private IPv4 address.", field="public")
            address = self._private_ip(inst.seq)
        inst.ipv4 = [*inst.ipv4, address]
        inst.touch()
        self.changed()
        return self.json_response(200, self._address(inst, address, public))

    def allocate_ip(self, request: SimRequest, linode_id: str) -> SimResponse:
        return self._allocate(self._instance(linode_id), self._body(request))

    def allocate_account_ip(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        linode_id = body.get("linode_id")
        if isinstance(linode_id, bool) or not isinstance(linode_id, int) or linode_id not in self.instances:
            self.fail(400, "linode_id must be one of your Linodes", field="linode_id")
        return self._allocate(self.instances[linode_id], body)

    def share_ips(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        linode_id, ips = body.get("linode_id"), body.get("ips")
        if isinstance(linode_id, bool) or not isinstance(linode_id, int) or linode_id not in self.instances:
            self.fail(400, "linode_id must be one of your Linodes", field="linode_id")
        if not isinstance(ips, list) or not all(isinstance(ip, str) and _IPV4.match(ip) for ip in ips):
            self.fail(400, "ips must be a list of IPv4 addresses", field="ips")
        inst = self.instances[linode_id]
        for ip in ips:
            owner = self._owner(ip)
            if owner is None:
                self.fail(400, f"{ip} is not an address of your account", field="ips")
            if owner.id == inst.id:
                self.fail(400, f"{ip} already belongs to Linode {inst.id}", field="ips")
            if owner.region != inst.region:
                self.fail(400, f"{ip} is in {owner.region}; only addresses in {inst.region} can be shared "
                               f"with Linode {inst.id}", field="ips")
        self.shared_ips[inst.id] = list(dict.fromkeys(ips))
        self.changed()
        return self.json_response(200, {})
