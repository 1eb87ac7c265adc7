"""DigitalOcean's SSH keys and tags: a part of :class:`~.api.DigitalOceanAPI`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudkit.errors import ValidationError
from cloudkit.sshkeys import fingerprint_md5, parse_public_key
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI
from cloudkit.testing.simulator.digitalocean.catalog import TAG_RE, Droplet

__all__ = ["KeysAndTags"]


class KeysAndTags(ProviderAPI):
    """The ``/v2/account/keys`` and ``/v2/tags`` handlers."""

    droplets: dict[int, Droplet]
    images: dict[int, dict[str, Any]]
    keys: dict[int, dict[str, Any]]
    #: lower-case name → {"name", "droplets": set, "images": set, "last"}
    tags: dict[str, dict[str, Any]]
    _key_ids: Iterator[int]

    # -- SSH keys ---------------------------------------------------------------------------------

    def _find_key(self, ref: str) -> dict[str, Any] | None:
        if ref.isdigit():
            return self.keys.get(int(ref))
        for key in self.keys.values():
            if key["fingerprint"] == ref:
                return key
        return None

    def _key(self, ref: str) -> dict[str, Any]:
        key = self._find_key(ref)
        if key is None:
            self.fail(404, "The resource you were accessing could not be found.")
        return key

    def list_keys(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.keys.values()), key="ssh_keys")

    def create_key(self, request: SimRequest) -> SimResponse:
        body = request.json()
        if not isinstance(body, dict):
            self.fail(400, "error parsing request body", code="bad_request")
        name, public_key = body.get("name"), body.get("public_key")
        if not isinstance(name, str) or not name.strip():
            self.fail(422, "Name is required.")
        if not isinstance(public_key, str):
            self.fail(422, "Public key is required.")
        try:
            parse_public_key(public_key)
            fingerprint = fingerprint_md5(public_key)
        except ValidationError:
            self.fail(422, "Key invalid, key should be of the format `type key [comment]`")
        if any(k["fingerprint"] == fingerprint for k in self.keys.values()):
            self.fail(422, "SSH Key is already in use on your account")
        key_id = next(self._key_ids)
        key: dict[str, Any] = {"id": key_id, "fingerprint": fingerprint, "public_key": public_key.strip(),
                               "name": name}
        self.keys[key_id] = key
        return self.json_response(201, {"ssh_key": key})

    def get_key(self, request: SimRequest, ref: str) -> SimResponse:
        return self.json_response(200, {"ssh_key": self._key(ref)})

    def update_key(self, request: SimRequest, ref: str) -> SimResponse:
        key = self._key(ref)
        body = request.json()
        if not isinstance(body, dict):
            self.fail(400, "error parsing request body", code="bad_request")
        name = body.get("name")
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                self.fail(422, "Name must be a non-empty string.")
            key["name"] = name
        return self.json_response(200, {"ssh_key": key})

    def delete_key(self, request: SimRequest, ref: str) -> SimResponse:
        key = self._key(ref)
        del self.keys[key["id"]]
        return self.empty(204)

    # -- tags -------------------------------------------------------------------------------------

    def _ensure_tag(self, name: str) -> str:
        entry = self.tags.get(name.lower())
        if entry is None:
            entry = self.tags[name.lower()] = {"name": name, "droplets": set(), "images": set(), "last": None}
        return str(entry["name"])

    def _tag(self, name: str) -> dict[str, Any]:
        entry = self.tags.get(name.lower())
        if entry is None or entry["name"] != name:
            self.fail(404, "The resource you were accessing could not be found.")
        return entry

    def _tag_json(self, entry: dict[str, Any]) -> dict[str, Any]:
        base = self.options.base_url
        droplets: dict[str, Any] = {"count": len(entry["droplets"])}
        images: dict[str, Any] = {"count": len(entry["images"])}
        if entry["droplets"]:
            droplets["last_tagged_uri"] = f"{base}/v2/droplets/{max(entry['droplets'])}"
        if entry["images"]:
            images["last_tagged_uri"] = f"{base}/v2/images/{max(entry['images'])}"
        resources: dict[str, Any] = {"count": droplets["count"] + images["count"]}
        if entry["last"]:
            resources["last_tagged_uri"] = entry["last"]
        resources.update({"droplets": droplets, "images": images, "volumes": {"count": 0},
                          "volume_snapshots": {"count": 0}, "databases": {"count": 0}})
        return {"name": entry["name"], "resources": resources}

    def list_tags(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, [self._tag_json(e) for e in self.tags.values()], key="tags")

    def create_tag(self, request: SimRequest) -> SimResponse:
        body = request.json()
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name or len(name) > 255 or not TAG_RE.match(name):
            return self.json_response(400, {
                "error": "tag name is invalid",
                "messages": ["name must be 1-255 letters, digits, '_', '-' or ':'"],
                "root_causes": ["invalid tag name"]})
        self._ensure_tag(name)
        return self.json_response(201, {"tag": self._tag_json(self.tags[name.lower()])})

    def get_tag(self, request: SimRequest, name: str) -> SimResponse:
        return self.json_response(200, {"tag": self._tag_json(self._tag(name))})

    def delete_tag(self, request: SimRequest, name: str) -> SimResponse:
        entry = self._tag(name)
        for droplet_id in entry["droplets"]:
            d = self.droplets.get(droplet_id)
            if d is not None:
                d.tags = [t for t in d.tags if t != entry["name"]]
                d.touch()
        for image_id in entry["images"]:
            image = self.images.get(image_id)
            if image is not None:
                image["tags"] = [t for t in image["tags"] if t != entry["name"]]
        del self.tags[name.lower()]
        self.changed()
        return self.empty(204)

    def _resources(self, request: SimRequest) -> list[tuple[str, int]]:
        body = request.json()
        resources = body.get("resources") if isinstance(body, dict) else None
        if not isinstance(resources, list) or not resources:
            self.fail(422, "resources must be a non-empty list.")
        out: list[tuple[str, int]] = []
        for item in resources:
            if not isinstance(item, dict):
                self.fail(422, "each resource needs resource_id and resource_type.")
            rid, rtype = item.get("resource_id"), item.get("resource_type")
            if rtype not in ("droplet", "image", "volume", "volume_snapshot"):
                self.fail(422, "resource_type must be droplet, image, volume or volume_snapshot.")
            if isinstance(rid, bool) or not isinstance(rid, (str, int)) or not str(rid).isdigit():
                self.fail(422, "resource_id must be the resource's id.")
            known = self.droplets if rtype == "droplet" else self.images if rtype == "image" else {}
            if int(rid) not in known:
                self.fail(404, f"{rtype} {rid} could not be found.")
            out.append((str(rtype), int(rid)))
        return out

    def tag_resources(self, request: SimRequest, name: str) -> SimResponse:
        entry = self._tag(name)
        for rtype, rid in self._resources(request):
            if rtype == "droplet":
                d = self.droplets[rid]
                if entry["name"] not in d.tags:
                    d.tags = [*d.tags, entry["name"]]
                    d.touch()
                entry["droplets"].add(rid)
                entry["last"] = f"{self.options.base_url}/v2/droplets/{rid}"
            else:
                image = self.images[rid]
                if entry["name"] not in image["tags"]:
                    image["tags"] = [*image["tags"], entry["name"]]
                entry["images"].add(rid)
                entry["last"] = f"{self.options.base_url}/v2/images/{rid}"
        self.changed()
        return self.empty(204)

    def untag_resources(self, request: SimRequest, name: str) -> SimResponse:
        entry = self._tag(name)
        for rtype, rid in self._resources(request):
            if rtype == "droplet":
                d = self.droplets[rid]
                d.tags = [t for t in d.tags if t != entry["name"]]
                d.touch()
                entry["droplets"].discard(rid)
            else:
                image = self.images[rid]
                image["tags"] = [t for t in image["tags"] if t != entry["name"]]
                entry["images"].discard(rid)
        self.changed()
        return self.empty(204)

