"""A Linode's disks (libcloud's ``LinodeDisk`` and ``ex_*_disk`` methods)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cloudkit.driver import object_id
from cloudkit.drivers.linode.parsing import LinodeParsing
from cloudkit.drivers.linode.rules import (
    _IMAGE_ID,
    _linode_id,
    _opt_number,
    _public_keys,
    _string_list,
    _validate_root_pass,
    _validate_slug,
)
from cloudkit.errors import ValidationError
from cloudkit.models import Node, NodeImage
from cloudkit.parsing import as_dict, int_field, parse_datetime, parser, req_id, str_field

#: The file systems a Linode disk can be made with.
LINODE_DISK_FILESYSTEMS = ("raw", "swap", "ext3", "ext4", "initrd")


@dataclass(eq=False, slots=True)
class LinodeDisk:
    """A disk of a Linode (libcloud's ``LinodeDisk``): ``size`` in MB, ``state`` the API's
    ``status`` (``ready``, ``not ready``, ``deleting``)."""

    id: str
    state: str
    name: str
    filesystem: str
    driver: Any
    size: int
    extra: dict[str, Any] = field(default_factory=dict)


class LinodeDisks(LinodeParsing):
    """List, create and destroy the disks of a Linode."""

    @parser("Linode disk")
    def _to_disk(self, data: Any) -> LinodeDisk:
        obj = as_dict(data, "Linode disk")
        what = "Linode disk"
        return LinodeDisk(req_id(obj, "id", what), str_field(obj, "status", what) or "unknown",
                          str_field(obj, "label", what) or "", str_field(obj, "filesystem", what) or "",
                          self, int_field(obj, "size", what) or 0,
                          {"created": parse_datetime(obj.get("created")),
                           "updated": parse_datetime(obj.get("updated"))})

    @staticmethod
    def _disk_id(disk: LinodeDisk | str | int) -> str:
        value = disk.id if isinstance(disk, LinodeDisk) else object_id(disk, "disk")
        if not value.isdigit() or not value.isascii():
            raise ValidationError(f"a disk id is a number, not {value[:40]!r}")
        return value

    def ex_list_disks(self, node: Node | str) -> list[LinodeDisk]:
        """A Linode's disks (GET .../disks)."""
        return [self._to_disk(item) for item in self._paged(f"/linode/instances/{_linode_id(node)}/disks")]

    def ex_create_disk(self, size: int, name: str, node: Node | str, fs_type: str,
                       image: NodeImage | str | None = None, ex_root_pass: str | None = None,
                       ex_authorized_keys: Sequence[str] | None = None,
                       ex_authorized_users: Sequence[str] | None = None,
                       ex_read_only: bool = False) -> LinodeDisk:
        """Add a disk of ``size`` MB to a Linode (POST .../disks), empty or from ``image``
        (which needs ``ex_root_pass``). Linode disks have no read-only flag (a configuration
        profile makes a device read-only): ``ex_read_only=True`` is refused."""
        if ex_read_only:
            raise ValidationError("Linode disks have no read-only flag; set it on the configuration profile")
        if not isinstance(name, str) or not name.strip() or len(name) > 48:
            raise ValidationError("a disk label must be a non-empty string of at most 48 characters")
        body: dict[str, Any] = {"label": name,
                                "size": _opt_number(size, "size (MB)")}
        if fs_type not in LINODE_DISK_FILESYSTEMS:
            raise ValidationError(f"fs_type must be one of {', '.join(LINODE_DISK_FILESYSTEMS)}")
        body["filesystem"] = fs_type
        if image is not None:
            if ex_root_pass is None:
                raise ValidationError("a disk made from an image needs ex_root_pass")
            body["image"] = _validate_slug(object_id(image, "image"), "image", _IMAGE_ID)
            body["root_pass"] = _validate_root_pass(ex_root_pass)
        elif ex_root_pass is not None:
            raise ValidationError("ex_root_pass needs an image")
        if ex_authorized_keys is not None:
            body["authorized_keys"] = _public_keys(ex_authorized_keys)
        if ex_authorized_users is not None:
            body["authorized_users"] = _string_list(ex_authorized_users, "ex_authorized_users")
        path = self._node_path(node, "/disks")
        response = self.connection.request(path, data=body, method="POST",
                                           outcome_hint=f"look for a disk labelled {name!r} (ex_list_disks)")
        return self._to_disk(response.object)

    def ex_destroy_disk(self, node: Node | str, disk: LinodeDisk | str | int) -> bool:
        """Delete a disk (DELETE .../disks/{id}); the API refuses it while the Linode runs."""
        self.connection.request(self._node_path(node, f"/disks/{self._disk_id(disk)}"), method="DELETE")
        return True
