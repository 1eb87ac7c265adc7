"""DigitalOcean block storage, volume snapshots, private images and reserved IPs: a part of
:class:`~.api.DigitalOceanAPI`, per the storage cut of DigitalOcean's OpenAPI description.

Behaviour worth knowing:

- ``POST /v2/volumes`` answers 201 with the volume at once (1 to 16384 GiB, a lowercase name
  unique in its region, a region or a ``snapshot_id`` whose region it inherits);
- volume actions (``/v2/volumes/{id}/actions``, or ``/v2/volumes/actions`` by name and
  region) answer 202 with an ``in-progress`` action that completes after ``action_seconds``;
  the attachment, detachment or new size shows from then on (on the volume and on the
  droplet's ``volume_ids``). Refused with 422: a droplet in another region, a volume attached
  to another droplet, detaching from a droplet it is not on, a smaller size, a second action
  while one runs; deleting an attached volume;
- volume snapshots are made at once (201); ``/v2/snapshots`` lists them with the droplet
  snapshots (private images), and deletes either;
- private images (droplet snapshots) can be renamed or described (``PUT``) and deleted;
- reserved IPs (``/v2/reserved_ips``) are 198.51.100.x addresses; assign/unassign actions
  answer 201 and complete after ``action_seconds`` (the IP is ``locked`` meanwhile); a droplet
  in another region is refused; at most the account's ``floating_ip_limit`` are reserved;
- deleting a droplet detaches its volumes and unassigns its reserved IPs.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, dumps, iso_now
from cloudkit.testing.simulator.digitalocean.catalog import Action, Droplet

__all__ = ["STORAGE_ROUTES", "Storage"]

_UUID = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_IP = r"(\d{1,3}(?:\.\d{1,3}){3})"
_NOT_FOUND = "The resource you were accessing could not be found."
_VOLUME_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
MAX_VOLUME_GB = 16384
#: How many volumes one droplet may have attached.
MAX_ATTACHED = 7

STORAGE_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", r"/v2/volumes", "list_volumes"),
    ("POST", r"/v2/volumes", "create_volume"),
    ("DELETE", r"/v2/volumes", "delete_volume_by_name"),
    ("POST", r"/v2/volumes/actions", "post_volume_action_by_name"),
    ("GET", rf"/v2/volumes/{_UUID}", "get_volume"),
    ("DELETE", rf"/v2/volumes/{_UUID}", "delete_volume"),
    ("GET", rf"/v2/volumes/{_UUID}/actions", "list_volume_actions"),
    ("POST", rf"/v2/volumes/{_UUID}/actions", "post_volume_action"),
    ("GET", rf"/v2/volumes/{_UUID}/actions/(\d+)", "get_volume_action"),
    ("GET", rf"/v2/volumes/{_UUID}/snapshots", "list_volume_snapshots"),
    ("POST", rf"/v2/volumes/{_UUID}/snapshots", "create_volume_snapshot"),
    ("GET", rf"/v2/volumes/snapshots/{_UUID}", "get_snapshot"),
    ("DELETE", rf"/v2/volumes/snapshots/{_UUID}", "delete_snapshot"),
    ("GET", r"/v2/snapshots", "list_snapshots"),
    ("GET", r"/v2/snapshots/([^/]+)", "get_snapshot"),
    ("DELETE", r"/v2/snapshots/([^/]+)", "delete_snapshot"),
    ("PUT", r"/v2/images/(\d+)", "update_image"),
    ("DELETE", r"/v2/images/(\d+)", "delete_image"),
    ("GET", r"/v2/reserved_ips", "list_reserved_ips"),
    ("POST", r"/v2/reserved_ips", "create_reserved_ip"),
    ("GET", rf"/v2/reserved_ips/{_IP}", "get_reserved_ip"),
    ("DELETE", rf"/v2/reserved_ips/{_IP}", "delete_reserved_ip"),
    ("GET", rf"/v2/reserved_ips/{_IP}/actions", "list_reserved_ip_actions"),
    ("POST", rf"/v2/reserved_ips/{_IP}/actions", "post_reserved_ip_action"),
    ("GET", rf"/v2/reserved_ips/{_IP}/actions/(\d+)", "get_reserved_ip_action"),
)


def _ip_number(ip: str) -> int:
    a, b, c, d = (int(p) for p in ip.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


class Storage(ProviderAPI):
    """The volume, snapshot, private image and reserved IP handlers."""

    droplets: dict[int, Droplet]
    actions: dict[int, Action]
    images: dict[int, dict[str, Any]]
    image_kind: dict[int, str]
    regions: dict[str, dict[str, Any]]
    account: dict[str, Any]

    _action_ids: Iterator[int]

    if TYPE_CHECKING:  # pragma: no cover - provided by DigitalOceanAPI
        def _region_public(self, slug: str | None) -> dict[str, Any] | None: ...

        def _action_json(self, a: Action) -> dict[str, Any]: ...

        def render(self, d: Droplet) -> bytes: ...

    def _storage_init(self) -> None:
        #: volume id → volume record (the API's fields, ``region`` as a slug)
        self.volumes: dict[str, dict[str, Any]] = {}
        #: volume id → the action running on it
        self.volume_busy: dict[str, Action] = {}
        #: action id → the volume it acts on (volume actions carry no resource id)
        self.action_volume: dict[int, str] = {}
        self.volume_snapshots: dict[str, dict[str, Any]] = {}
        #: ip → {"ip", "region" (slug), "droplet_id", "locked", "project_id"}
        self.reserved_ips: dict[str, dict[str, Any]] = {}
        self._ip_numbers = itertools.count(10)
        self.project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "cloudkit-sim/project"))

    # -- rendering ------------------------------------------------------------------------------

    def _volume_json(self, v: dict[str, Any]) -> dict[str, Any]:
        return {**v, "region": self._region_public(v["region"]), "droplet_ids": list(v["droplet_ids"])}

    def _reserved_ip_json(self, r: dict[str, Any]) -> bytes:
        droplet = self.droplets.get(r["droplet_id"]) if r["droplet_id"] is not None else None
        return (b'{"ip":' + dumps(r["ip"]) + b',"droplet":' + (self.render(droplet) if droplet else b"null")
                + b',"region":' + dumps(self._region_public(r["region"])) + b',"locked":'
                + (b"true" if r["locked"] else b"false") + b',"project_id":' + dumps(r["project_id"]) + b"}")

    def _body_object(self, request: SimRequest) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            self.fail(400, "error parsing request body", code="bad_request")
        return body

    def _storage_action(self, kind: str, resource_type: str, resource_id: int | None,
                        region: str | None) -> Action:
        action = Action(next(self._action_ids), kind, resource_id, region, resource_type)
        self.actions[action.id] = action
        return action

    # -- volumes ----------------------------------------------------------------------------------

    def _volume(self, volume_id: str) -> dict[str, Any]:
        return self.found(self.volumes, volume_id, _NOT_FOUND)

    def list_volumes(self, request: SimRequest) -> SimResponse:
        name, region = request.arg("name"), request.arg("region")
        items = [self._volume_json(v) for v in self.volumes.values()
                 if (name is None or v["name"] == name) and (region is None or v["region"] == region)]
        return self.paged_list(request, items, key="volumes")

    def get_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        return self.json_response(200, {"volume": self._volume_json(self._volume(volume_id))})

    def create_volume(self, request: SimRequest) -> SimResponse:
        body = self._body_object(request)
        size = body.get("size_gigabytes")
        if isinstance(size, bool) or not isinstance(size, int):
            self.fail(400, "size_gigabytes is required and must be an integer", code="bad_request")
        if not 1 <= size <= MAX_VOLUME_GB:
            self.fail(422, f"size_gigabytes must be between 1 and {MAX_VOLUME_GB}")
        name = body.get("name")
        if not isinstance(name, str) or not _VOLUME_NAME.match(name):
            self.fail(422, "name must be up to 64 lowercase letters, digits and '-', starting with a letter")
        snapshot = None
        if body.get("snapshot_id") is not None:
            snapshot = self.volume_snapshots.get(str(body["snapshot_id"]))
            if snapshot is None:
                self.fail(404, "snapshot not found")
            if size < snapshot["min_disk_size"]:
                self.fail(422, f"size_gigabytes must be at least the snapshot's {snapshot['min_disk_size']} GiB")
        region = body.get("region")
        if region is None and snapshot is not None:
            region = snapshot["regions"][0]
        if not isinstance(region, str) or region not in self.regions or not self.regions[region]["available"]:
            self.fail(422, "region is required and must be an available region")
        if snapshot is not None and region not in snapshot["regions"]:
            self.fail(422, f"the snapshot is not available in region {region}")
        if any(v["name"] == name and v["region"] == region for v in self.volumes.values()):
            self.fail(409, f"a volume named {name} already exists in {region}", code="conflict")
        fs_type = body.get("filesystem_type") or ""
        if fs_type not in ("", "ext4", "xfs"):
            self.fail(422, "filesystem_type must be ext4 or xfs")
        label = body.get("filesystem_label") or ""
        if not isinstance(label, str) or len(label) > (12 if fs_type == "xfs" else 16):
            self.fail(422, "filesystem_label is too long")
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            self.fail(422, "tags must be a list of strings")
        description = body.get("description") or ""
        if not isinstance(description, str):
            self.fail(422, "description must be a string")
        volume_id = str(uuid.uuid4())
        self.volumes[volume_id] = {
            "id": volume_id, "region": region, "droplet_ids": [], "name": name, "description": description,
            "size_gigabytes": size, "created_at": iso_now(), "filesystem_type": fs_type,
            "filesystem_label": label, "tags": list(tags)}
        self.changed()
        return self.json_response(201, {"volume": self._volume_json(self.volumes[volume_id])})

    def delete_volume(self, request: SimRequest, volume_id: str) -> SimResponse:
        self._delete_volume(self._volume(volume_id))
        return self.empty(204)

    def delete_volume_by_name(self, request: SimRequest) -> SimResponse:
        name, region = request.arg("name"), request.arg("region")
        if not name or not region:
            self.fail(400, "name and region are required", code="bad_request")
        matches = [v for v in self.volumes.values() if v["name"] == name and v["region"] == region]
        if not matches:
            self.fail(404, _NOT_FOUND)
        self._delete_volume(matches[0])
        return self.empty(204)

    def _delete_volume(self, v: dict[str, Any]) -> None:
        if v["droplet_ids"]:
            self.fail(422, "volume is currently attached to a droplet; detach it before deleting")
        if v["id"] in self.volume_busy:
            self.fail(422, "Volume already has a pending event.")
        del self.volumes[v["id"]]
        self.changed()

    # -- volume actions ---------------------------------------------------------------------------

    def post_volume_action(self, request: SimRequest, volume_id: str) -> SimResponse:
        return self._volume_action(self._volume(volume_id), self._body_object(request))

    def post_volume_action_by_name(self, request: SimRequest) -> SimResponse:
        body = self._body_object(request)
        name, region = body.get("volume_name"), body.get("region")
        matches = [v for v in self.volumes.values() if v["name"] == name and v["region"] == region]
        if not matches:
            self.fail(404, _NOT_FOUND)
        return self._volume_action(matches[0], body)

    def _volume_action(self, v: dict[str, Any], body: dict[str, Any]) -> SimResponse:
        kind = body.get("type")
        if kind not in ("attach", "detach", "resize"):
            self.fail(400, "type must be attach, detach or resize", code="bad_request")
        region = body.get("region")
        if region is not None and region != v["region"]:
            self.fail(422, f"volume is in region {v['region']}, not {region}")
        if v["id"] in self.volume_busy:
            self.fail(422, "Volume already has a pending event.")
        if kind == "resize":
            size = body.get("size_gigabytes")
            if isinstance(size, bool) or not isinstance(size, int):
                self.fail(400, "size_gigabytes is required for resize", code="bad_request")
            if size > MAX_VOLUME_GB:
                self.fail(422, f"size_gigabytes must be at most {MAX_VOLUME_GB}")
            if size <= v["size_gigabytes"]:
                self.fail(422, "a volume can only grow: size_gigabytes must be larger than the current size")

            def effect() -> None:
                v["size_gigabytes"] = size
        else:
            droplet_id = body.get("droplet_id")
            if isinstance(droplet_id, bool) or not isinstance(droplet_id, int):
                self.fail(400, "droplet_id is required", code="bad_request")
            d = self.droplets.get(droplet_id)
            if d is None:
                self.fail(404, "droplet not found")
            if kind == "attach":
                if d.region["slug"] != v["region"]:
                    self.fail(422, f"volume is in region {v['region']} and the droplet in {d.region['slug']}: "
                                   "they must be in the same region")
                if v["droplet_ids"]:
                    self.fail(422, f"volume is already attached to droplet {v['droplet_ids'][0]}")
                if len(d.volume_ids) >= MAX_ATTACHED:
                    self.fail(422, f"a droplet can have at most {MAX_ATTACHED} volumes attached")
            elif droplet_id not in v["droplet_ids"]:
                self.fail(422, f"volume is not attached to droplet {droplet_id}")

            def effect() -> None:
                self._set_attached(v, d if kind == "attach" else None)
        action = self._storage_action(f"{kind}_volume" if kind != "resize" else "resize_volume", "volume", None,
                                      v["region"])
        self.volume_busy[v["id"]] = action
        self.action_volume[action.id] = v["id"]

        def finish() -> None:
            self.volume_busy.pop(v["id"], None)
            if v["id"] in self.volumes and (kind == "resize" or int(body["droplet_id"]) in self.droplets):
                effect()
                action.complete()
            else:
                action.complete("errored")
            self.changed()

        self.after(self.options.action_seconds, finish)
        return self.json_response(202, {"action": self._action_json(action)})

    def _set_attached(self, v: dict[str, Any], d: Droplet | None) -> None:
        for old in v["droplet_ids"]:
            other = self.droplets.get(old)
            if other is not None and v["id"] in other.volume_ids:
                other.volume_ids.remove(v["id"])
                other.touch()
        v["droplet_ids"] = [d.id] if d is not None else []
        if d is not None:
            d.volume_ids.append(v["id"])
            d.touch()

    def list_volume_actions(self, request: SimRequest, volume_id: str) -> SimResponse:
        v = self._volume(volume_id)
        actions = [self._action_json(self.actions[a]) for a, vid in self.action_volume.items() if vid == v["id"]]
        return self.paged_list(request, actions, key="actions")

    def get_volume_action(self, request: SimRequest, volume_id: str, action_id: str) -> SimResponse:
        v = self._volume(volume_id)
        action = self.actions.get(int(action_id))
        if action is None or self.action_volume.get(action.id) != v["id"]:
            self.fail(404, _NOT_FOUND)
        return self.json_response(200, {"action": self._action_json(action)})

    # -- snapshots --------------------------------------------------------------------------------

    def list_volume_snapshots(self, request: SimRequest, volume_id: str) -> SimResponse:
        v = self._volume(volume_id)
        items = [s for s in self.volume_snapshots.values() if s["resource_id"] == v["id"]]
        return self.paged_list(request, items, key="snapshots")

    def create_volume_snapshot(self, request: SimRequest, volume_id: str) -> SimResponse:
        v = self._volume(volume_id)
        body = self._body_object(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            self.fail(400, "name is required (at most 255 characters)", code="bad_request")
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            self.fail(400, "tags must be a list of strings", code="bad_request")
        if any(s["name"] == name and s["resource_id"] == v["id"] for s in self.volume_snapshots.values()):
            self.fail(409, f"the volume already has a snapshot named {name}", code="conflict")
        snapshot_id = str(uuid.uuid4())
        snapshot = {"id": snapshot_id, "name": name, "regions": [v["region"]], "created_at": iso_now(),
                    "resource_id": v["id"], "resource_type": "volume", "min_disk_size": v["size_gigabytes"],
                    "size_gigabytes": round(v["size_gigabytes"] * 0.05, 2), "tags": list(tags)}
        self.volume_snapshots[snapshot_id] = snapshot
        self.changed()
        return self.json_response(201, {"snapshot": snapshot})

    def _droplet_snapshot_json(self, image: dict[str, Any]) -> dict[str, Any]:
        owner = next((d.id for d in self.droplets.values() if image["id"] in d.snapshot_ids), None)
        return {"id": str(image["id"]), "name": image["name"], "regions": list(image["regions"]),
                "created_at": image["created_at"], "resource_id": str(owner) if owner is not None else "",
                "resource_type": "droplet", "min_disk_size": image["min_disk_size"],
                "size_gigabytes": image["size_gigabytes"], "tags": list(image["tags"])}

    def _droplet_snapshots(self) -> list[dict[str, Any]]:
        return [i for i, kind in ((self.images[k], v) for k, v in self.image_kind.items() if k in self.images)
                if kind == "private" and i["type"] == "snapshot"]

    def list_snapshots(self, request: SimRequest) -> SimResponse:
        kind = request.arg("resource_type")
        if kind not in (None, "droplet", "volume"):
            self.fail(400, "resource_type must be droplet or volume", code="bad_request")
        items: list[dict[str, Any]] = []
        if kind in (None, "droplet"):
            items += [self._droplet_snapshot_json(i) for i in self._droplet_snapshots()]
        if kind in (None, "volume"):
            items += list(self.volume_snapshots.values())
        return self.paged_list(request, items, key="snapshots")

    def get_snapshot(self, request: SimRequest, snapshot_id: str) -> SimResponse:
        if snapshot_id.isdigit():
            image = self.images.get(int(snapshot_id))
            if image is None or image not in self._droplet_snapshots():
                self.fail(404, _NOT_FOUND)
            return self.json_response(200, {"snapshot": self._droplet_snapshot_json(image)})
        return self.json_response(200, {"snapshot": self.found(self.volume_snapshots, snapshot_id, _NOT_FOUND)})

    def delete_snapshot(self, request: SimRequest, snapshot_id: str) -> SimResponse:
        if snapshot_id.isdigit():
            image = self.images.get(int(snapshot_id))
            if image is None or image not in self._droplet_snapshots():
                self.fail(404, _NOT_FOUND)
            self._drop_image(image["id"])
        else:
            self.found(self.volume_snapshots, snapshot_id, _NOT_FOUND)
            del self.volume_snapshots[snapshot_id]
        self.changed()
        return self.empty(204)

    # -- private images ---------------------------------------------------------------------------

    def _private_image(self, image_id: str) -> dict[str, Any]:
        image = self.images.get(int(image_id))
        if image is None:
            self.fail(404, _NOT_FOUND)
        if self.image_kind.get(image["id"]) != "private":
            self.fail(403, "You do not have permission to change a public image.", code="forbidden")
        return image

    def update_image(self, request: SimRequest, image_id: str) -> SimResponse:
        image = self._private_image(image_id)
        body = self._body_object(request)
        for field in ("name", "description", "distribution"):
            if field in body:
                if not isinstance(body[field], str) or (field == "name" and not body[field].strip()):
                    self.fail(422, f"{field} must be a non-empty string" if field == "name"
                              else f"{field} must be a string")
                image[field] = body[field]
        self.changed()
        return self.json_response(200, {"image": image})

    def delete_image(self, request: SimRequest, image_id: str) -> SimResponse:
        self._drop_image(self._private_image(image_id)["id"])
        self.changed()
        return self.empty(204)

    def _drop_image(self, image_id: int) -> None:
        self.images.pop(image_id, None)
        self.image_kind.pop(image_id, None)
        for d in self.droplets.values():
            if image_id in d.snapshot_ids:
                d.snapshot_ids.remove(image_id)
                d.touch()

    # -- reserved IPs -----------------------------------------------------------------------------

    def _reserved(self, ip: str) -> dict[str, Any]:
        return self.found(self.reserved_ips, ip, _NOT_FOUND)

    def list_reserved_ips(self, request: SimRequest) -> SimResponse:
        items = list(self.reserved_ips.values())
        return self.paged(request, len(items), lambda s, e: [self._reserved_ip_json(r) for r in items[s:e]],
                          key="reserved_ips")

    def get_reserved_ip(self, request: SimRequest, ip: str) -> SimResponse:
        return SimResponse(200, b'{"reserved_ip":' + self._reserved_ip_json(self._reserved(ip)) + b"}")

    def create_reserved_ip(self, request: SimRequest) -> SimResponse:
        body = self._body_object(request)
        region, droplet_id = body.get("region"), body.get("droplet_id")
        if (region is None) == (droplet_id is None):
            self.fail(422, "give either region or droplet_id")
        droplet = None
        if droplet_id is not None:
            if isinstance(droplet_id, bool) or not isinstance(droplet_id, int) or droplet_id not in self.droplets:
                self.fail(422, "droplet_id must be the id of one of your droplets")
            droplet = self.droplets[droplet_id]
            region = droplet.region["slug"]
        if not isinstance(region, str) or region not in self.regions or not self.regions[region]["available"]:
            self.fail(422, "region must be an available region")
        if len(self.reserved_ips) >= int(self.account.get("floating_ip_limit") or 0):
            self.fail(422, f"You have reached your reserved IP limit of {self.account['floating_ip_limit']}.")
        n = next(self._ip_numbers)
        ip = f"198.51.{100 + n // 250}.{n % 250 + 1}"
        record = {"ip": ip, "region": region, "droplet_id": None, "locked": False, "project_id": self.project_id}
        self.reserved_ips[ip] = record
        links: dict[str, Any] = {}
        if droplet is not None:
            action = self._ip_action(record, "assign_ip", droplet)
            links = {"droplets": [{"id": droplet.id, "rel": "droplet",
                                   "href": f"{self.options.base_url}/v2/droplets/{droplet.id}"}],
                     "actions": [{"id": action.id, "rel": "assign_ip",
                                  "href": f"{self.options.base_url}/v2/actions/{action.id}"}]}
        self.changed()
        return SimResponse(202, b'{"reserved_ip":' + self._reserved_ip_json(record) + b',"links":' + dumps(links)
                           + b"}")

    def delete_reserved_ip(self, request: SimRequest, ip: str) -> SimResponse:
        record = self._reserved(ip)
        if record["locked"]:
            self.fail(422, "The reserved IP has a pending event.")
        del self.reserved_ips[ip]
        self.changed()
        return self.empty(204)

    def _ip_action(self, record: dict[str, Any], kind: str, droplet: Droplet | None) -> Action:
        action = self._storage_action(kind, "reserved_ip", _ip_number(record["ip"]), record["region"])
        record["locked"] = True

        def finish() -> None:
            record["locked"] = False
            if record["ip"] not in self.reserved_ips or (droplet is not None and droplet.id not in self.droplets):
                action.complete("errored")
            else:
                record["droplet_id"] = droplet.id if droplet is not None else None
                action.complete()
            self.changed()

        self.after(self.options.action_seconds, finish)
        return action

    def post_reserved_ip_action(self, request: SimRequest, ip: str) -> SimResponse:
        record = self._reserved(ip)
        body = self._body_object(request)
        kind = body.get("type")
        if kind not in ("assign", "unassign"):
            self.fail(422, "type must be assign or unassign")
        if record["locked"]:
            self.fail(422, "The reserved IP has a pending event.")
        droplet = None
        if kind == "assign":
            droplet_id = body.get("droplet_id")
            if isinstance(droplet_id, bool) or not isinstance(droplet_id, int):
                self.fail(422, "droplet_id is required to assign a reserved IP")
            droplet = self.droplets.get(droplet_id)
            if droplet is None:
                self.fail(404, "droplet not found")
            if droplet.region["slug"] != record["region"]:
                self.fail(422, f"the reserved IP is in region {record['region']} and the droplet in "
                               f"{droplet.region['slug']}: they must be in the same region")
        elif record["droplet_id"] is None:
            self.fail(422, "The reserved IP is not assigned to a droplet.")
        action = self._ip_action(record, f"{kind}_ip", droplet)
        self.changed()
        return self.json_response(201, {"action": self._action_json(action)})

    def _ip_actions(self, record: dict[str, Any]) -> list[Action]:
        number = _ip_number(record["ip"])
        return [a for a in self.actions.values() if a.resource_type == "reserved_ip" and a.resource_id == number]

    def list_reserved_ip_actions(self, request: SimRequest, ip: str) -> SimResponse:
        actions = [self._action_json(a) for a in self._ip_actions(self._reserved(ip))]
        return self.paged_list(request, actions, key="actions")

    def get_reserved_ip_action(self, request: SimRequest, ip: str, action_id: str) -> SimResponse:
        action = self.actions.get(int(action_id))
        if action is None or action not in self._ip_actions(self._reserved(ip)):
            self.fail(404, _NOT_FOUND)
        return self.json_response(200, {"action": self._action_json(action)})

    # -- a droplet goes -----------------------------------------------------------------------

    def release_droplet(self, droplet_id: int) -> None:
        """Detach a deleted droplet's volumes and unassign its reserved IPs."""
        for v in self.volumes.values():
            if droplet_id in v["droplet_ids"]:
                v["droplet_ids"] = [i for i in v["droplet_ids"] if i != droplet_id]
        for record in self.reserved_ips.values():
            if record["droplet_id"] == droplet_id:
                record["droplet_id"] = None
