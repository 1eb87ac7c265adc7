"""Linode's catalogue and belongings: types, images, regions, SSH keys, tags."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from cloudkit.driver import object_id
from cloudkit.drivers.linode.connection import API
from cloudkit.drivers.linode.parsing import LinodeParsing
from cloudkit.drivers.linode.rules import _IMAGE_ID, _SLUG, _linode_id, _validate_slug, _validate_tag
from cloudkit.errors import NotFoundError, ValidationError
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from cloudkit.parsing import as_dict, req
from cloudkit.sshkeys import parse_public_key


class LinodeCatalogue(LinodeParsing):
    """Types, images, regions, SSH keys and tags."""

    def ex_list_tags(self) -> list[str]:
        """Every tag label on the account (GET /v4/tags)."""
        labels = []
        for item in self._paged("/tags"):
            labels.append(req(as_dict(item, "Linode tag"), "label", str, "Linode tag"))
        return labels

    def ex_create_tag(self, name: str) -> str:
        """Create a tag (POST /v4/tags); returns its label."""
        body = as_dict(self.connection.request(f"{API}/tags", data={"label": _validate_tag(name)},
                                               method="POST").object, "Linode tag")
        label: str = req(body, "label", str, "Linode tag")
        return label

    def ex_delete_tag(self, name: str) -> bool:
        """Delete a tag from the account (it is removed from every object)."""
        self.connection.request(f"{API}/tags/{quote(_validate_tag(name), safe='')}", method="DELETE")
        return True

    def _retag(self, node: Node | str, change: Callable[[list[str]], list[str]]) -> bool:
        current = self.get_node(_linode_id(node))
        tags = change(list(current.tags))
        if tags != current.tags:
            updated = self._to_node(self.connection.request(
                self._node_path(current.id), data={"tags": tags}, method="PUT").object)
            tags = updated.tags
        if isinstance(node, Node):
            node.tags = list(tags)
        return True

    def ex_tag_node(self, node: Node | str, tag: str) -> bool:
        """Add ``tag`` to a Linode (PUT of its tags list; the tag is created if new)."""
        _validate_tag(tag)
        return self._retag(node, lambda tags: tags if tag in tags else [*tags, tag])

    def ex_untag_node(self, node: Node | str, tag: str) -> bool:
        """Remove ``tag`` from a Linode (PUT of its tags list)."""
        _validate_tag(tag)
        return self._retag(node, lambda tags: [t for t in tags if t != tag])

    # -- catalogue ----------------------------------------------------------------------------

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Linode types. With ``location``, prices are that region's (``region_prices``)."""
        region = None
        if location is not None:
            region = _validate_slug(object_id(location, "location"), "region", _SLUG)
        return [self._to_size(item, region) for item in self._unpaged("/linode/types")]

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        """Public and private images. With ``location``, images listed in other regions only
        are left out (public images carry no region list and are kept)."""
        images = [self._to_image(item) for item in self._paged("/images")]
        if location is None:
            return images
        region = object_id(location, "location")
        return [i for i in images if not i.extra["regions"] or region in i.extra["regions"]]

    def ex_get_image(self, image_id: str) -> NodeImage:
        """One image by id (``linode/debian12`` or ``private/123``; the slash is sent as is)."""
        image = _validate_slug(object_id(image_id, "image"), "image", _IMAGE_ID)
        return self._to_image(self._get(f"/images/{image}"))

    def list_locations(self) -> list[NodeLocation]:
        """Regions, with country code and capabilities."""
        return [self._to_location(item) for item in self._unpaged("/regions")]

    # -- key pairs ----------------------------------------------------------------------------

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored on the profile (GET /v4/profile/sshkeys)."""
        return [self._to_key_pair(item) for item in self._paged("/profile/sshkeys")]

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store a public key on the profile under ``name`` (label, up to 64 characters)."""
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ValidationError("an SSH key label must be a non-empty string of at most 64 characters")
        parse_public_key(key_material)
        body = {"label": name, "ssh_key": key_material.strip()}
        response = self.connection.request(f"{API}/profile/sshkeys", data=body, method="POST",
                                           outcome_hint=f"look for an SSH key labelled {name!r}")
        return self._to_key_pair(response.object)

    def delete_key_pair(self, key_pair: KeyPair | str) -> bool:
        """Remove a stored key (a KeyPair, its id, or its label)."""
        key_id = key_pair.id if isinstance(key_pair, KeyPair) else object_id(key_pair, "key pair")
        if key_id is None or not key_id.isdigit():
            name = key_pair.name if isinstance(key_pair, KeyPair) else key_id
            if not name:
                raise ValidationError("key pair has neither an id nor a name")
            key_id = self.get_key_pair(name).id
            if key_id is None:  # pragma: no cover - listing always gives ids
                raise NotFoundError(f"key pair {name!r} has no id", 404, driver=self.name)
        self.connection.request(f"{API}/profile/sshkeys/{key_id}", method="DELETE")
        return True
