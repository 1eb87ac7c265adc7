"""libcloud 3.9.1's own DigitalOcean and Linode parsers and cloudkit's, side by side on
libcloud's recorded answers (read from the installed libcloud, not copied) for volumes,
volume snapshots and images: ids, names, sizes and states agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# libcloud is pinned in the test extra: a missing one fails here rather than skipping the comparison.
import libcloud.test.compute.fixtures as libcloud_fixtures
from libcloud.compute.drivers.digitalocean import DigitalOcean_v2_NodeDriver
from libcloud.compute.drivers.linode import LinodeNodeDriverV4

from cloudkit import StorageVolumeState
from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.drivers.linode import LinodeNodeDriver

ROOT = Path(libcloud_fixtures.__path__[0])


def recorded(folder: str, name: str) -> Any:
    return json.loads((ROOT / folder / name).read_text(encoding="utf-8"))


def bare(cls: type) -> Any:
    return object.__new__(cls)  # libcloud's parsers need no connection (nor its __new__'s key)


def test_digitalocean_volumes() -> None:
    theirs, ours = bare(DigitalOcean_v2_NodeDriver), DigitalOceanNodeDriver("t")
    items = recorded("digitalocean_v2", "list_volumes.json")["volumes"]
    items.append(recorded("digitalocean_v2", "create_volume.json")["volume"])
    assert items
    for item in items:
        lc, ck = theirs._to_volume(item), ours._to_volume(item)
        assert (ck.id, ck.name, ck.size) == (str(lc.id), lc.name, lc.size)
        assert ck.extra["region"] == lc.extra["region_slug"] == ck.extra["region_slug"]
        assert ck.extra["droplet_ids"] == [str(d) for d in lc.extra["droplet_ids"]]
        # libcloud gives DigitalOcean volumes no state; cloudkit derives it from the attachment
        assert ck.state == (StorageVolumeState.INUSE if lc.extra["droplet_ids"] else StorageVolumeState.AVAILABLE)


def test_digitalocean_volume_snapshots() -> None:
    theirs, ours = bare(DigitalOcean_v2_NodeDriver), DigitalOceanNodeDriver("t")
    items = recorded("digitalocean_v2", "list_volume_snapshots.json")["snapshots"]
    items.append(recorded("digitalocean_v2", "create_volume_snapshot.json")["snapshot"])
    for item in items:
        lc, ck = theirs._to_volume_snapshot(item), ours._to_volume_snapshot(item)
        assert (ck.id, ck.name, ck.size) == (str(lc.id), lc.name, lc.size)
        assert ck.extra["resource_id"] == str(lc.extra["resource_id"])


def test_digitalocean_images() -> None:
    theirs, ours = bare(DigitalOcean_v2_NodeDriver), DigitalOceanNodeDriver("t")
    for item in recorded("digitalocean_v2", "list_images.json")["images"]:
        lc, ck = theirs._to_image(item), ours._to_image(item)
        assert (ck.id, ck.name) == (str(lc.id), lc.name)


def test_linode_volumes() -> None:
    theirs, ours = bare(LinodeNodeDriverV4), LinodeNodeDriver("t")
    items = [*recorded("linode_v4", "list_volumes.json")["data"], recorded("linode_v4", "ex_get_volume.json"),
             recorded("linode_v4", "create_volume.json"), recorded("linode_v4", "clone_volume.json")]
    for item in items:
        lc, ck = theirs._to_volume(item), ours._to_volume(item)
        assert (ck.id, ck.name, ck.size) == (lc.id, lc.name, lc.size)
        assert ck.extra["region"] == ck.extra["location"] == lc.extra["location"]
        assert ck.extra["linode_id"] == (None if lc.extra["linode_id"] is None else str(lc.extra["linode_id"]))
        # the same state, except that cloudkit says "inuse" for an active volume attached to a Linode
        expected = lc.extra["state"]
        if expected == "available" and lc.extra["linode_id"] is not None:
            expected = "inuse"
        assert ck.state.value == expected


def test_linode_images() -> None:
    theirs, ours = bare(LinodeNodeDriverV4), LinodeNodeDriver("t")
    items = [*recorded("linode_v4", "list_images.json")["data"], recorded("linode_v4", "create_image.json")]
    for item in items:
        lc, ck = theirs._to_image(item), ours._to_image(item)
        assert (ck.id, ck.name) == (lc.id, lc.name)
        assert ck.extra["is_public"] == lc.extra["is_public"]
