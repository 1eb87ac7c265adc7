"""The simulated DigitalOcean account: routes, conventions, droplets, actions and the catalog."""

from __future__ import annotations

import functools
import itertools
import secrets
import uuid
from typing import Any, ClassVar

from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import RateLimit, dumps, iso_now, seed_options
from cloudkit.testing.simulator.digitalocean.catalog import (
    NAME_RE,
    TAG_RE,
    Action,
    Droplet,
    is_gpu,
    make_account,
    make_catalog,
)
from cloudkit.testing.simulator.digitalocean.resources import KeysAndTags
from cloudkit.testing.simulator.digitalocean.storage import STORAGE_ROUTES, Storage
from cloudkit.testing.simulator.paging import Page, PageSpec, page_links

__all__ = ["DigitalOceanAPI"]

_ID = r"(\d+)"
_NOT_FOUND = "The resource you were accessing could not be found."


class DigitalOceanAPI(Storage, KeysAndTags):
    """A DigitalOcean account behind ``https://api.digitalocean.com/v2``."""

    name = "digitalocean"
    #: ``droplet_limit``: refuse creates beyond this many droplets (None: no limit, as seeding
    #: 100,000 droplets and then creating more is what benchmarks do).
    option_defaults: ClassVar[dict[str, Any]] = {"droplet_limit": None}
    auth = "bearer"
    messages: ClassVar[dict[int, str]] = {
        401: "Unable to authenticate you", 403: "You do not have permission to perform this action.",
        404: _NOT_FOUND, 429: "API Rate limit exceeded.", 500: "Unexpected server-side error",
        503: "The service is temporarily unavailable, please try again later."}
    rate_limit = RateLimit(5000, 3600, ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"),
                           throttled_limit=250)
    retry_after_header = "retry-after"
    node_table = "droplets"
    node_id_type = int
    page_spec = PageSpec("per_page", 20, 200, page_error="page and per_page must be positive integers",
                         size_error="page and per_page must be positive integers")
    routes = (
        ("GET", r"/v2/account", "get_account"),
        ("GET", r"/v2/droplets", "list_droplets"),
        ("POST", r"/v2/droplets", "create_droplets"),
        ("GET", rf"/v2/droplets/{_ID}", "get_droplet"),
        ("DELETE", rf"/v2/droplets/{_ID}", "delete_droplet"),
        ("GET", rf"/v2/droplets/{_ID}/actions", "list_droplet_actions"),
        ("POST", rf"/v2/droplets/{_ID}/actions", "post_droplet_action"),
        ("GET", rf"/v2/droplets/{_ID}/actions/{_ID}", "get_droplet_action"),
        ("GET", r"/v2/actions", "list_actions"),
        ("GET", rf"/v2/actions/{_ID}", "get_action"),
        ("GET", r"/v2/images", "list_images"),
        ("GET", r"/v2/images/([^/]+)", "get_image"),
        ("GET", r"/v2/sizes", "list_sizes"),
        ("GET", r"/v2/regions", "list_regions"),
        ("GET", r"/v2/account/keys", "list_keys"),
        ("POST", r"/v2/account/keys", "create_key"),
        ("GET", r"/v2/account/keys/([^/]+)", "get_key"),
        ("PUT", r"/v2/account/keys/([^/]+)", "update_key"),
        ("DELETE", r"/v2/account/keys/([^/]+)", "delete_key"),
        ("GET", r"/v2/tags", "list_tags"),
        ("POST", r"/v2/tags", "create_tag"),
        ("GET", r"/v2/tags/([^/]+)", "get_tag"),
        ("DELETE", r"/v2/tags/([^/]+)", "delete_tag"),
        ("POST", r"/v2/tags/([^/]+)/resources", "tag_resources"),
        ("DELETE", r"/v2/tags/([^/]+)/resources", "untag_resources"),
        *STORAGE_ROUTES,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.public_gateway = ".".join([*self.options.public_ip.split(".")[:3], "1"])
        self.droplets: dict[int, Droplet] = {}
        self.actions: dict[int, Action] = {}
        self.keys: dict[int, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self._droplet_ids = itertools.count(400_000_001)
        self._seq = itertools.count(1)
        self._action_ids = itertools.count(2_000_000_001)
        self._key_ids = itertools.count(41_000_001)
        self._image_ids = itertools.count(160_000_001)
        self._shared: dict[tuple[str, int, str], bytes] = {}
        self.regions, self.sizes, self.images, self.image_kind = make_catalog()
        self.account = make_account(self.settings["droplet_limit"])
        self._storage_init()

    # -- provider conventions -------------------------------------------------------------------

    def make_token(self) -> str:
        return "dop_v1_" + secrets.token_hex(32)

    def error(self, status: int, message: str, **extra: Any) -> SimResponse:
        code = extra.pop("code", None) or _ERROR_IDS.get(status, "error")
        body = {"id": code, "message": message, "request_id": str(uuid.uuid4())}
        return SimResponse(status, dumps(body))

    def bad_body(self, message: str) -> SimResponse:
        return self.error(400, "error parsing request body")

    def status_forced(self, node: Any, status: str) -> None:
        node.networked = node.networked or status != "new"

    def seed_nodes(self, count: int, *, tag: str | None = None, name_prefix: str = "node",
                   **fields: Any) -> list[str]:
        """Add ``count`` active droplets at once (cheap enough for 100,000)."""
        opts = seed_options(fields, {"size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "region": "nyc3",
                                     "status": "active"})
        size, region = self.sizes[opts["size"]], self.regions[opts["region"]]
        image = self._find_image(opts["image"])
        if image is None:
            raise ValueError("unknown image")
        tags = [self._ensure_tag(tag)] if tag else []
        created = iso_now()
        tag_entry = self.tags[tag.lower()] if tag else None

        def make(n: int) -> int:
            droplet_id = next(self._droplet_ids)
            d = Droplet(droplet_id, next(self._seq), f"{name_prefix}-{n}", size, image, region, created, tags,
                        status=opts["status"])
            d.networked = True
            self.droplets[droplet_id] = d
            if tag_entry is not None:
                tag_entry["droplets"].add(droplet_id)
            return droplet_id

        return self.seeding(count, make)

    # -- rendering --------------------------------------------------------------------------------
    def _shared_part(self, d: Droplet) -> bytes:
        key = (d.size["slug"], d.image["id"], d.region["slug"])
        part = self._shared.get(key)
        if part is None:
            region = {k: v for k, v in d.region.items() if k not in ("index", "vpc_uuid")}
            part = (b'"size":' + dumps(d.size) + b',"image":' + dumps(d.image) + b',"region":'
                    + dumps(region) + b"}")
            self._shared[key] = part
        return part


    def render(self, d: Droplet) -> bytes:
        return d.head(self.options.public_ip, self.public_gateway) + self._shared_part(d)

    def _region_public(self, slug: str | None) -> dict[str, Any] | None:
        if slug is None or slug not in self.regions:
            return None
        return {k: v for k, v in self.regions[slug].items() if k not in ("index", "vpc_uuid")}

    def _action_json(self, a: Action) -> dict[str, Any]:
        return {"id": a.id, "status": a.status, "type": a.type, "started_at": a.started_at,
                "completed_at": a.completed_at, "resource_id": a.resource_id, "resource_type": a.resource_type,
                "region": self._region_public(a.region_slug), "region_slug": a.region_slug}

    def page_body(self, request: SimRequest, page: Page, items: bytes, **shape: Any) -> bytes:
        assert self.page_spec is not None
        links = page_links(self.options.base_url, request, page, self.page_spec)
        return b"".join([b'{"', str(shape["key"]).encode(), b'":[', items, b'],"links":{"pages":', dumps(links),
                         b'},"meta":{"total":', str(page.total).encode(), b"}}"])

    # -- account ----------------------------------------------------------------------------------

    def get_account(self, request: SimRequest) -> SimResponse:
        return self.json_response(200, {"account": self.account})

    # -- droplets ---------------------------------------------------------------------------------

    def list_droplets(self, request: SimRequest) -> SimResponse:
        tag = request.arg("tag_name")
        name = request.arg("name")
        kind = request.arg("type")
        if tag is not None and (name is not None or kind is not None):
            self.fail(400, "tag_name cannot be combined with name or type", code="bad_request")
        if kind not in (None, "droplets", "gpus"):
            self.fail(400, "type must be 'droplets' or 'gpus'", code="bad_request")
        if kind == "gpus":  # GPU droplets are listed only when asked for
            items: list[Droplet] = self.listing("gpus", lambda: [d for d in self.droplets.values() if is_gpu(d)])
        elif tag is not None:
            entry = self.tags.get(tag.lower())
            ids = entry["droplets"] if entry is not None and entry["name"] == tag else set()
            items = self.listing(("tag", tag), lambda: [self.droplets[i] for i in sorted(ids)])
        elif name is not None:
            low = name.lower()
            items = self.listing(("name", low), lambda: [d for d in self.droplets.values()
                                                          if d.name.lower() == low])
        else:
            items = self.listing("all", lambda: [d for d in self.droplets.values() if not is_gpu(d)])

        def render(start: int, end: int) -> list[bytes]:
            return [self.render(d) for d in items[start:end]]

        return self.paged(request, len(items), render, key="droplets")

    def get_droplet(self, request: SimRequest, droplet_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        return SimResponse(200, b'{"droplet":' + self.render(d) + b"}")

    def delete_droplet(self, request: SimRequest, droplet_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        self._remove(d)
        return self.empty(204)

    def _remove(self, d: Droplet) -> None:
        self.droplets.pop(d.id, None)
        for tag in d.tags:
            entry = self.tags.get(tag.lower())
            if entry is not None:
                entry["droplets"].discard(d.id)
        d.status = "archive"
        self.release_droplet(d.id)
        self.changed()

    def _droplet(self, droplet_id: str) -> Droplet:
        d = self.found(self.droplets, int(droplet_id), _NOT_FOUND)
        return d

    def create_droplets(self, request: SimRequest) -> SimResponse:
        body = request.json()
        if not isinstance(body, dict):
            self.fail(400, "error parsing request body", code="bad_request")
        multi = "names" in body
        if multi and "name" in body:
            self.fail(422, "Specify either name or names, not both.")
        if multi:
            names = body["names"]
            if not isinstance(names, list) or not names or len(names) > 10:
                self.fail(422, "names must be a list of 1 to 10 droplet names.")
        elif "name" in body:
            names = [body["name"]]
        else:
            self.fail(422, "Name is required.")
        for name in names:
            if not isinstance(name, str) or not name or len(name) > 255 or not NAME_RE.match(name):
                self.fail(422, "Name is invalid: only letters, digits, '.' and '-' are allowed "
                               "and it must end with a letter or digit.")
        size_slug = body.get("size")
        if not isinstance(size_slug, str) or not size_slug:
            self.fail(422, "Size is required.")
        size = self.sizes.get(size_slug)
        if size is None or not size["available"]:
            self.fail(422, "You specified an invalid size for Droplet creation.")
        if "image" not in body or body["image"] in (None, ""):
            self.fail(422, "Image is required.")
        image = self._find_image(body["image"])
        if image is None:
            self.fail(422, "You specified an invalid image for Droplet creation.")
        region = self._pick_region(body.get("region"), size)
        for flag in ("backups", "ipv6", "monitoring", "private_networking", "with_droplet_agent",
                     "public_networking"):
            if flag in body and body[flag] is not None and not isinstance(body[flag], bool):
                self.fail(422, f"{flag} must be a boolean.")
        if body.get("public_networking") is False and body.get("ipv6"):
            self.fail(422, "public_networking can only be disabled when ipv6 is disabled.")
        keys = body.get("ssh_keys") or []
        if not isinstance(keys, list):
            self.fail(422, "ssh_keys must be a list of key ids or fingerprints.")
        for ref in keys:
            if isinstance(ref, bool) or not isinstance(ref, (int, str)) or self._find_key(str(ref)) is None:
                self.fail(422, "You specified an invalid SSH key for Droplet creation.")
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) and t and len(t) <= 255 and TAG_RE.match(t)
                                                 for t in tags):
            self.fail(422, "Tags must be names of letters, digits, '_', '-' or ':' (at most 255 characters).")
        user_data = body.get("user_data")
        if user_data is not None and (not isinstance(user_data, str) or len(user_data.encode()) > 65536):
            self.fail(422, "user_data must be text of at most 64 KiB.")
        limit = self.settings["droplet_limit"]
        if limit is not None and len(self.droplets) + len(names) > limit:
            self.fail(422, "creating this/these droplet(s) will exceed your droplet limit")
        canonical = [self._ensure_tag(t) for t in dict.fromkeys(tags)]
        created = iso_now()
        made: list[tuple[Droplet, Action]] = []
        for name in names:
            droplet_id = next(self._droplet_ids)
            d = Droplet(droplet_id, next(self._seq), name, size, image, region, created, list(canonical),
                        ipv6=bool(body.get("ipv6")), monitoring=bool(body.get("monitoring")),
                        backups=bool(body.get("backups")))
            self.droplets[droplet_id] = d
            for t in canonical:
                self.tags[t.lower()]["droplets"].add(droplet_id)
            action = self._new_action("create", d)
            d.action = None  # a droplet being created is "new", not locked
            made.append((d, action))
            self.later(self.options.boot_seconds, functools.partial(self._booted, d, action))
        self.changed()
        links = b'{"actions":[' + b",".join(
            dumps({"id": a.id, "rel": "create", "href": f"{self.options.base_url}/v2/actions/{a.id}"})
            for _, a in made) + b"]}"
        if multi:
            body_bytes = b'{"droplets":[' + b",".join(self.render(d) for d, _ in made) + b'],"links":' + links + b"}"
        else:
            body_bytes = b'{"droplet":' + self.render(made[0][0]) + b',"links":' + links + b"}"
        return SimResponse(202, body_bytes)

    def _booted(self, d: Droplet, action: Action) -> None:
        if d.id not in self.droplets:
            action.complete("errored")
            return
        d.status = "active"
        d.networked = True
        d.touch()
        action.complete()
        self.changed()

    def _pick_region(self, value: Any, size: dict[str, Any]) -> dict[str, Any]:
        if value is None or value == "":
            for region in self.regions.values():
                if region["available"] and size["slug"] in region["sizes"]:
                    return region
            self.fail(422, "No region has this size available.")
        if not isinstance(value, str):
            self.fail(422, "You specified an invalid region for Droplet creation.")
        candidates = [r for slug, r in self.regions.items() if slug == value] or [
            r for slug, r in self.regions.items() if slug.startswith(value) and r["available"]]
        if not candidates:
            self.fail(422, "You specified an invalid region for Droplet creation.")
        region = candidates[0]
        if not region["available"]:
            self.fail(422, "This region is not available for new Droplets.")
        if size["slug"] not in region["sizes"]:
            self.fail(422, "This size is not available in the selected region.")
        return region

    def _find_image(self, ref: Any) -> dict[str, Any] | None:
        if isinstance(ref, bool):
            return None
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return self.images.get(int(ref))
        if isinstance(ref, str):
            for image in self.images.values():
                if image["slug"] == ref:
                    return image
        return None

    # -- actions ----------------------------------------------------------------------------------

    def _new_action(self, kind: str, d: Droplet) -> Action:
        action = Action(next(self._action_ids), kind, d.id, d.region["slug"])
        self.actions[action.id] = action
        d.action = action
        d.touch()
        return action

    def post_droplet_action(self, request: SimRequest, droplet_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            self.fail(422, "An action type is required.")
        kind = body["type"]
        if kind not in _ACTION_TYPES:
            self.fail(422, f"Action type '{kind[:40]}' is not valid.")
        if d.action is not None or d.status == "new":
            self.fail(422, "Droplet already has a pending event.")
        effect = self._plan_action(d, kind, body)
        action = self._new_action(kind, d)

        def finish(d: Droplet = d, action: Action = action) -> None:
            if d.id in self.droplets:
                effect()
                action.complete()
            else:
                action.complete("errored")
            d.action = None
            d.touch()
            self.changed()

        self.after(0 if kind == "rename" else self.options.action_seconds, finish)
        return self.json_response(201, {"action": self._action_json(action)})

    def _plan_action(self, d: Droplet, kind: str, body: dict[str, Any]) -> Any:
        """Check an action against the droplet's state; return what it does when it completes."""
        if kind in ("reboot", "power_cycle", "shutdown", "power_off"):
            if d.status != "active":
                self.fail(422, "Droplet is already powered off." if kind in ("shutdown", "power_off")
                          else "Droplet is currently off.")
            target = "off" if kind in ("shutdown", "power_off") else "active"
            return lambda: self._set_status(d, target)
        if kind == "power_on":
            if d.status == "active":
                self.fail(422, "Droplet is already powered on.")
            return lambda: self._set_status(d, "active")
        if kind == "resize":
            slug = body.get("size")
            size = self.sizes.get(slug) if isinstance(slug, str) else None
            if size is None or not size["available"]:
                self.fail(422, "You specified an invalid size for Droplet resize.")
            grow_disk = body.get("disk", False)
            if not isinstance(grow_disk, bool):
                self.fail(422, "disk must be a boolean.")
            if d.status != "off":
                self.fail(422, "Droplet must be powered off before it can be resized.")
            if size["disk"] < d.disk:
                self.fail(422, "This size has a smaller disk than the Droplet's; disks cannot shrink.")

            def resize() -> None:
                d.size = size
                if grow_disk:
                    d.disk = size["disk"]

            return resize
        if kind == "rebuild":
            image = self._find_image(body.get("image"))
            if image is None:
                self.fail(422, "You specified an invalid image for Droplet rebuild.")

            def rebuild() -> None:
                d.image = image
                d.status = "active"

            return rebuild
        if kind == "rename":
            new_name = body.get("name")
            if not isinstance(new_name, str) or not new_name or len(new_name) > 255 or not NAME_RE.match(new_name):
                self.fail(422, "Name is invalid: only letters, digits, '.' and '-' are allowed.")

            def rename() -> None:
                d.name = new_name

            return rename
        if kind == "snapshot":
            name = body.get("name") or f"{d.name}-snapshot"
            return lambda: self._snapshot(d, str(name))
        if kind == "enable_ipv6":
            return lambda: setattr(d, "ipv6", True)
        if kind in ("enable_backups", "disable_backups"):
            return lambda: setattr(d, "backups", kind == "enable_backups")
        return lambda: None  # password_reset

    def _set_status(self, d: Droplet, status: str) -> None:
        d.status = status

    def _snapshot(self, d: Droplet, name: str) -> None:
        image_id = next(self._image_ids)
        self.images[image_id] = {
            "id": image_id, "name": name, "distribution": d.image["distribution"], "slug": None,
            "public": False, "regions": [d.region["slug"]], "created_at": iso_now(), "type": "snapshot",
            "min_disk_size": d.disk, "size_gigabytes": round(d.disk * 0.08, 2), "description": "",
            "tags": [], "status": "available", "error_message": "",
        }
        self.image_kind[image_id] = "private"
        d.snapshot_ids.append(image_id)

    def list_droplet_actions(self, request: SimRequest, droplet_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        actions = [self._action_json(a) for a in self.actions.values() if a.resource_id == d.id]
        return self.paged_list(request, actions, key="actions")

    def get_droplet_action(self, request: SimRequest, droplet_id: str, action_id: str) -> SimResponse:
        d = self._droplet(droplet_id)
        action = self.actions.get(int(action_id))
        if action is None or action.resource_id != d.id:
            self.fail(404, _NOT_FOUND)
        return self.json_response(200, {"action": self._action_json(action)})

    def list_actions(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, [self._action_json(a) for a in self.actions.values()], key="actions")

    def get_action(self, request: SimRequest, action_id: str) -> SimResponse:
        action = self.found(self.actions, int(action_id), _NOT_FOUND)
        return self.json_response(200, {"action": self._action_json(action)})

    # -- catalog ----------------------------------------------------------------------------------

    def list_images(self, request: SimRequest) -> SimResponse:
        kind = request.arg("type")
        private = request.arg("private")
        tag = request.arg("tag_name")
        images = []
        for image_id, image in self.images.items():
            category = self.image_kind[image_id]
            if kind is not None and category != kind:
                continue
            if private is not None and private.lower() == "true" and category != "private":
                continue
            if tag is not None and tag not in image["tags"]:
                continue
            images.append(image)
        return self.paged_list(request, images, key="images")

    def get_image(self, request: SimRequest, ref: str) -> SimResponse:
        image = self._find_image(ref)
        if image is None:
            self.fail(404, _NOT_FOUND)
        return self.json_response(200, {"image": image})

    def list_sizes(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.sizes.values()), key="sizes")

    def list_regions(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, [self._region_public(s) for s in self.regions], key="regions")


_ACTION_TYPES = frozenset({
    "reboot", "power_cycle", "shutdown", "power_off", "power_on", "resize", "rebuild", "rename", "snapshot",
    "password_reset", "enable_ipv6", "enable_backups", "disable_backups",
})
_ERROR_IDS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 422: "unprocessable_entity", 429: "too_many_requests", 500: "server_error",
    502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout",
}
