"""The account's catalogue and belongings: sizes, images, regions, SSH keys, tags, account."""

from __future__ import annotations

from typing import Any

from cloudkit.drivers.digitalocean.parsing import DigitalOceanParsing
from cloudkit.drivers.digitalocean.rules import _FINGERPRINT_RE, _MAX_NAME, _check_tag
from cloudkit.errors import MalformedResponseError, NotFoundError, ValidationError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from cloudkit.parsing import as_dict
from cloudkit.sshkeys import fingerprint_md5, parse_public_key
from cloudkit.surface import alias


class DigitalOceanCatalogue(DigitalOceanParsing):
    """Sizes, images, regions, SSH keys, tags and the account."""

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Droplet sizes (only those offered in ``location`` when given)."""
        region = self._region_slug(location) if location is not None else None
        sizes = [self._to_size(item) for item in self._list("/v2/sizes", "sizes")]
        if region is not None:
            sizes = [s for s in sizes if region in s.extra.get("regions", [])]
        return sizes

    def list_images(self, location: NodeLocation | str | None = None, *,
                    ex_type: str | None = None) -> list[NodeImage]:
        """Images: all (default), or ``ex_type="distribution"``, ``"application"`` or
        ``"private"`` (the account's own snapshots and custom images); only those available in
        ``location`` when given."""
        params: dict[str, Any] = {}
        if ex_type in ("distribution", "application"):
            params["type"] = ex_type
        elif ex_type == "private":
            params["private"] = "true"
        elif ex_type not in (None, "all"):
            raise ValidationError("ex_type must be 'distribution', 'application', 'private' or None")
        region = self._region_slug(location) if location is not None else None
        images = [self._to_image(item) for item in self._list("/v2/images", "images", params or None)]
        if region is not None:
            images = [i for i in images if region in i.extra.get("regions", [])]
        return images

    def get_image(self, image_id: NodeImage | str | int) -> NodeImage:
        """One image by numeric id, or a public image by slug."""
        ref = self._image_ref(str(image_id) if isinstance(image_id, int) else image_id)
        return self._to_image(self._member(f"/v2/images/{ref}", "image"))

    def list_locations(self, ex_available: bool = False) -> list[NodeLocation]:
        """Regions, each with ``extra["available"]``; only the available ones with
        ``ex_available=True``."""
        locations = [self._to_location(item) for item in self._list("/v2/regions", "regions")]
        if ex_available:
            locations = [loc for loc in locations if loc.extra.get("available")]
        return locations

    # -- key pairs --------------------------------------------------------------------------

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored on the account."""
        return [self._to_key_pair(item) for item in self._list("/v2/account/keys", "ssh_keys")]

    def get_key_pair(self, name: str) -> KeyPair:
        """A stored key by name, or by id or fingerprint; NotFoundError when absent."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("key pair name must be a non-empty string")
        text = name.strip()
        if text.isdigit() or _FINGERPRINT_RE.match(text):
            return self._to_key_pair(self._member(f"/v2/account/keys/{text.lower()}", "ssh_key"))
        for pair in self.list_key_pairs():
            if pair.name == text:
                return pair
        raise NotFoundError(f"key pair {text!r} not found", 404, driver=self.name)

    def ex_get_key_pair_by_fingerprint(self, fingerprint: str) -> KeyPair | None:
        """The account's key with this MD5 fingerprint, or None."""
        if not isinstance(fingerprint, str) or not _FINGERPRINT_RE.match(fingerprint.strip()):
            raise ValidationError("a fingerprint looks like 'aa:bb:...' (16 hex pairs)")
        try:
            return self._to_key_pair(self._member(f"/v2/account/keys/{fingerprint.strip().lower()}", "ssh_key"))
        except NotFoundError:
            return None

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store an OpenSSH public key line under ``name``."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("key pair name must be a non-empty string")
        if len(name) > _MAX_NAME:
            raise ValidationError(f"key pair name is longer than {_MAX_NAME} characters")
        parse_public_key(key_material)
        response = self.connection.request(
            "/v2/account/keys", data={"name": name.strip(), "public_key": key_material.strip()},
            method="POST",
            outcome_hint=f"look for a key with fingerprint {fingerprint_md5(key_material)} before trying again")
        body = as_dict(response.object, "POST /v2/account/keys")
        return self._to_key_pair(body.get("ssh_key"))

    def delete_key_pair(self, key_pair: KeyPair | str | None = None, key: KeyPair | str | None = None) -> bool:
        """Remove a stored key (a KeyPair, or its id or fingerprint); ``key=`` is libcloud's name."""
        key_pair = alias(key_pair, key, "key_pair", "key")
        if isinstance(key_pair, KeyPair):
            ident = key_pair.id or key_pair.fingerprint
        else:
            ident = key_pair
        ref = self._key_ref(ident)
        self.connection.request(f"/v2/account/keys/{ref}", method="DELETE")
        return True

    # -- tags -------------------------------------------------------------------------------

    def ex_create_tag(self, name: str) -> str:
        """Create a tag (creating an existing one is harmless); returns its canonical name."""
        tag = _check_tag(name)
        response = self.connection.request("/v2/tags", data={"name": tag}, method="POST", idempotent=True)
        body = as_dict(response.object, "POST /v2/tags")
        created = as_dict(body.get("tag"), "POST /v2/tags: 'tag'")
        canonical = created.get("name")
        return canonical if isinstance(canonical, str) and canonical else tag

    def ex_list_tags(self) -> list[str]:
        """The names of the account's tags."""
        names = []
        for item in self._list("/v2/tags", "tags"):
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
            else:
                raise MalformedResponseError("GET /v2/tags: a tag without a name", driver=self.name)
        return names

    def ex_delete_tag(self, name: str) -> bool:
        """Delete a tag (droplets keep running; they just lose the tag)."""
        tag = _check_tag(name)
        self.connection.request(f"/v2/tags/{tag}", method="DELETE")
        return True

    def _tag_body(self, node: Node | str) -> dict[str, Any]:
        return {"resources": [{"resource_id": self._droplet_id(node), "resource_type": "droplet"}]}

    def ex_tag_node(self, node: Node | str, tag: str) -> bool:
        """Tag a droplet, creating the tag first when the account does not have it."""
        name = _check_tag(tag)
        body = self._tag_body(node)
        try:
            self.connection.request(f"/v2/tags/{name}/resources", data=body, method="POST", idempotent=True)
        except NotFoundError:
            name = self.ex_create_tag(name)
            self.connection.request(f"/v2/tags/{name}/resources", data=body, method="POST", idempotent=True)
        if isinstance(node, Node) and name not in node.tags:
            node.tags.append(name)
        return True

    def ex_untag_node(self, node: Node | str, tag: str) -> bool:
        """Remove a tag from a droplet."""
        name = _check_tag(tag)
        self.connection.request(f"/v2/tags/{name}/resources", data=self._tag_body(node), method="DELETE")
        if isinstance(node, Node) and name in node.tags:
            node.tags.remove(name)
        return True

    # -- account ----------------------------------------------------------------------------

    def verify_credentials(self) -> bool:
        """``GET /v2/account``: True for a good token; InvalidCredsError (401) or
        ForbiddenError (403, a token without ``account:read``) otherwise."""
        self._member("/v2/account", "account")
        return True

    def ex_account_info(self) -> dict[str, Any]:
        """The account (``GET /v2/account``) as the API gives it: limits, email, status."""
        return self._member("/v2/account", "account")
