"""DigitalOcean volumes, snapshots, images from droplets and reserved IPs: requests checked
against the official descriptions, refusals send nothing, waits bounded, errors mapped."""

from __future__ import annotations

import pytest
from _storage_support import FIXTURES, fixture, mocked, validator

from cloudkit import StorageVolumeState, VolumeSnapshotState
from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.errors import NotFoundError, ValidationError, WaitTimeoutError
from cloudkit.models import Node, NodeState
from cloudkit.testing.openapi import validate_body

V1 = "7724db7c-e098-11e5-b522-000f53304e51"
TOKEN = "dop_v1_" + "0123456789abcdef" * 4

#: storage fixture -> (method, path as sent, status)
INDEX = {
    "GET_v2_volumes.json": ("GET", "/v2/volumes?page=1&per_page=200", 200),
    "GET_v2_volumes_detached.json": ("GET", f"/v2/volumes/{V1}", 200),
    "GET_v2_volumes_attached.json": ("GET", f"/v2/volumes/{V1}", 200),
    "GET_v2_volumes_attached_elsewhere.json": ("GET", f"/v2/volumes/{V1}", 200),
    "POST_v2_volumes.json": ("POST", "/v2/volumes", 201),
    "POST_v2_volumes_actions_attach.json": ("POST", f"/v2/volumes/{V1}/actions", 202),
    "POST_v2_volumes_actions_detach.json": ("POST", f"/v2/volumes/{V1}/actions", 202),
    "GET_v2_actions_2290030001_in-progress.json": ("GET", "/v2/actions/2290030001", 200),
    "GET_v2_actions_2290030001_completed.json": ("GET", "/v2/actions/2290030001", 200),
    "GET_v2_actions_2290030002_completed.json": ("GET", "/v2/actions/2290030002", 200),
    "GET_v2_actions_2290030003_completed.json": ("GET", "/v2/actions/2290030003", 200),
    "GET_v2_actions_2290030004_completed.json": ("GET", "/v2/actions/2290030004", 200),
    "GET_v2_volumes_snapshots.json": ("GET", f"/v2/volumes/{V1}/snapshots?page=1&per_page=200", 200),
    "POST_v2_volumes_snapshots.json": ("POST", f"/v2/volumes/{V1}/snapshots", 201),
    "POST_v2_droplets_actions_snapshot.json": ("POST", "/v2/droplets/401001/actions", 201),
    "GET_v2_images_private_after_snapshot.json": ("GET", "/v2/images?private=true&page=1&per_page=200", 200),
    "GET_v2_reserved_ips.json": ("GET", "/v2/reserved_ips?page=1&per_page=200", 200),
    "GET_v2_reserved_ips_192.0.2.77.json": ("GET", "/v2/reserved_ips/192.0.2.77", 200),
    "POST_v2_reserved_ips.json": ("POST", "/v2/reserved_ips", 202),
    "POST_v2_reserved_ips_actions_assign.json": ("POST", "/v2/reserved_ips/192.0.2.77/actions", 201),
    "error_422_volume_attached.json": ("DELETE", f"/v2/volumes/{V1}", 422),
}


def make() -> DigitalOceanNodeDriver:
    driver = DigitalOceanNodeDriver(TOKEN, max_retries=0)
    driver.action_poll_interval = 0.0
    return driver


def droplet(region: str = "nyc3", node_id: str = "401001") -> Node:
    return Node(node_id, "web-1", NodeState.RUNNING, [], [], None, extra={"region": region})


def test_every_storage_fixture_is_indexed_and_validates() -> None:
    assert {p.name for p in FIXTURES["digitalocean"].glob("*.json")} == set(INDEX)
    for name, (method, path, status) in INDEX.items():
        validate_body(validator("digitalocean"), method, path, status, fixture("digitalocean", name))


def test_list_volumes_names_region_and_attachment() -> None:
    with mocked("digitalocean") as api:
        api.add("GET", "/v2/volumes", "GET_v2_volumes.json")
        volumes = make().list_volumes()
    assert [(v.name, v.size, v.extra["region"], v.extra["droplet_ids"], v.state) for v in volumes] == [
        ("data-1", 100, "nyc3", [], StorageVolumeState.AVAILABLE),
        ("data-2", 250, "nyc3", ["401001"], StorageVolumeState.INUSE),
        ("logs-west", 10, "sfo3", [], StorageVolumeState.AVAILABLE)]
    assert "dop_v1" not in repr(volumes)


def test_create_volume_sends_a_valid_body() -> None:
    with mocked("digitalocean") as api:
        api.add("POST", "/v2/volumes", "POST_v2_volumes.json", status=201)
        volume = make().create_volume(100, "data-1", "nyc3", ex_filesystem_type="ext4")
    assert api.body(0) == {"size_gigabytes": 100, "name": "data-1", "region": "nyc3", "filesystem_type": "ext4"}
    assert volume.id == V1 and volume.state is StorageVolumeState.AVAILABLE


@pytest.mark.parametrize(("size", "name", "location"), [
    (0, "data-1", "nyc3"), (16385, "data-1", "nyc3"), (10, "Data_1", "nyc3"), (10, "data-1", None)])
def test_create_volume_refusals_send_nothing(size: int, name: str, location: str | None) -> None:
    with mocked("digitalocean") as api, pytest.raises(ValidationError):
        make().create_volume(size, name, location)
    assert api.sent == []


def test_attach_waits_for_the_action_and_updates_the_callers_volume() -> None:
    driver = make()
    volume = driver._to_volume(fixture("digitalocean", "GET_v2_volumes_detached.json")["volume"])
    with mocked("digitalocean") as api:
        api.add("POST", f"/v2/volumes/{V1}/actions", "POST_v2_volumes_actions_attach.json", status=202)
        api.add("GET", "/v2/actions/2290030001", "GET_v2_actions_2290030001_in-progress.json")
        api.add("GET", "/v2/actions/2290030001", "GET_v2_actions_2290030001_completed.json")
        assert driver.attach_volume(droplet(), volume) is True
    assert api.body(0) == {"type": "attach", "droplet_id": 401001, "region": "nyc3"}
    assert [m for m, _ in api.sent] == ["POST", "GET", "GET"]
    assert volume.extra["droplet_ids"] == ["401001"] and volume.state is StorageVolumeState.INUSE


def test_cross_region_attach_is_refused_before_sending_naming_both_regions() -> None:
    driver = make()
    volume = driver._to_volume(fixture("digitalocean", "GET_v2_volumes_detached.json")["volume"])
    with mocked("digitalocean") as api, pytest.raises(ValidationError, match=r"nyc3.*sfo3"):
        driver.attach_volume(droplet("sfo3"), volume)
    assert api.sent == []


def test_a_stale_attached_volume_is_fetched_before_refusing_and_then_attached() -> None:
    driver = make()
    stale = driver._to_volume(fixture("digitalocean", "GET_v2_volumes_attached_elsewhere.json")["volume"])
    with mocked("digitalocean") as api:
        api.add("GET", f"/v2/volumes/{V1}", "GET_v2_volumes_detached.json")
        api.add("POST", f"/v2/volumes/{V1}/actions", "POST_v2_volumes_actions_attach.json", status=202)
        assert driver.attach_volume(droplet(), stale, ex_wait=False)
    assert [m for m, _ in api.sent] == ["GET", "POST"]


def test_a_volume_attached_elsewhere_now_is_refused() -> None:
    driver = make()
    volume = driver._to_volume(fixture("digitalocean", "GET_v2_volumes_attached_elsewhere.json")["volume"])
    with mocked("digitalocean") as api, pytest.raises(ValidationError, match="attached to droplet 401003"):
        api.add("GET", f"/v2/volumes/{V1}", "GET_v2_volumes_attached_elsewhere.json")
        driver.attach_volume(droplet(), volume)
    assert api.sent == [("GET", f"/v2/volumes/{V1}")]


def test_attach_wait_is_bounded() -> None:
    driver = make()
    volume = driver._to_volume(fixture("digitalocean", "GET_v2_volumes_detached.json")["volume"])
    with mocked("digitalocean") as api:
        api.add("POST", f"/v2/volumes/{V1}/actions", "POST_v2_volumes_actions_attach.json", status=202)
        for _ in range(400):
            api.add("GET", "/v2/actions/2290030001", "GET_v2_actions_2290030001_in-progress.json")
        api.rsps.assert_all_requests_are_fired = False
        with pytest.raises(WaitTimeoutError):
            driver.attach_volume(droplet(), volume, timeout=0.05)
    assert len(api.sent) < 400


def test_destroying_an_attached_volume_says_so_unless_asked_to_detach() -> None:
    driver = make()
    with mocked("digitalocean") as api:
        api.add("GET", f"/v2/volumes/{V1}", "GET_v2_volumes_attached.json")
        with pytest.raises(ValidationError, match=r"attached to droplet 401001.*ex_detach=True"):
            driver.destroy_volume(V1)
    assert api.sent == [("GET", f"/v2/volumes/{V1}")]
    with mocked("digitalocean") as api:
        api.add("GET", f"/v2/volumes/{V1}", "GET_v2_volumes_attached.json")
        api.add("POST", f"/v2/volumes/{V1}/actions", "POST_v2_volumes_actions_detach.json", status=202)
        api.add("GET", "/v2/actions/2290030002", "GET_v2_actions_2290030002_completed.json")
        api.add("DELETE", f"/v2/volumes/{V1}", status=204)
        assert driver.destroy_volume(V1, ex_detach=True)
    assert api.body(1) == {"type": "detach", "droplet_id": 401001, "region": "nyc3"}
    assert api.sent[-1] == ("DELETE", f"/v2/volumes/{V1}")


def test_provider_refusal_maps_to_a_validation_error() -> None:
    driver = make()
    volume = driver._to_volume(fixture("digitalocean", "GET_v2_volumes_detached.json")["volume"])
    with mocked("digitalocean") as api:
        api.add("DELETE", f"/v2/volumes/{V1}", "error_422_volume_attached.json", status=422)
        with pytest.raises(ValidationError, match="detach it before deleting") as info:
            driver.destroy_volume(volume)
    assert info.value.status == 422


def test_snapshots() -> None:
    driver = make()
    with mocked("digitalocean") as api:
        api.add("GET", f"/v2/volumes/{V1}/snapshots", "GET_v2_volumes_snapshots.json")
        api.add("POST", f"/v2/volumes/{V1}/snapshots", "POST_v2_volumes_snapshots.json", status=201)
        api.add("DELETE", "/v2/snapshots/8fa70202-873f-11e6-8b68-000f533176b1", status=204)
        api.add("DELETE", "/v2/snapshots/8fa70202-873f-11e6-8b68-000f533176b1", status=204)
        listed = driver.list_volume_snapshots(V1)
        made = driver.create_volume_snapshot(V1, "data-1-nightly")
        assert driver.destroy_volume_snapshot(made) and driver.delete_volume_snapshot(made.id)
    assert [(s.name, s.size, s.state) for s in listed] == [("data-1-nightly", 3, VolumeSnapshotState.AVAILABLE)]
    assert api.body(1) == {"name": "data-1-nightly"}


def test_create_image_waits_and_returns_the_private_image() -> None:
    driver = make()
    with mocked("digitalocean") as api:
        api.add("POST", "/v2/droplets/401001/actions", "POST_v2_droplets_actions_snapshot.json", status=201)
        api.add("GET", "/v2/actions/2290030003", "GET_v2_actions_2290030003_completed.json")
        api.add("GET", "/v2/images", "GET_v2_images_private_after_snapshot.json")
        image = driver.create_image(droplet(), "web-golden")
        api.add("DELETE", "/v2/images/170000101", status=204)
        assert driver.delete_image(image=image)
    assert api.body(0) == {"type": "snapshot", "name": "web-golden"}
    assert (image.id, image.name) == ("170000101", "web-golden")


def test_reserved_ips_use_the_reserved_ip_endpoints() -> None:
    driver = make()
    with mocked("digitalocean") as api:
        api.add("GET", "/v2/reserved_ips", "GET_v2_reserved_ips.json")
        api.add("POST", "/v2/reserved_ips", "POST_v2_reserved_ips.json", status=202)
        api.add("GET", "/v2/reserved_ips/192.0.2.77", "GET_v2_reserved_ips_192.0.2.77.json")
        api.add("POST", "/v2/reserved_ips/192.0.2.77/actions", "POST_v2_reserved_ips_actions_assign.json", status=201)
        api.add("GET", "/v2/actions/2290030004", "GET_v2_actions_2290030004_completed.json")
        api.add("DELETE", "/v2/reserved_ips/192.0.2.77", status=204)
        listed = driver.ex_list_floating_ips()
        made = driver.ex_create_floating_ip("nyc3")
        got = driver.ex_get_floating_ip("192.0.2.77")
        assert driver.ex_attach_floating_ip_to_node(droplet(), got)
        assert driver.ex_delete_floating_ip(made)
    assert [ip.ip_address for ip in listed] == ["192.0.2.77"] and listed[0].extra["region"] == "nyc3"
    assert api.body(1) == {"region": "nyc3"} and api.body(3) == {"type": "assign", "droplet_id": 401001}
    assert got.node_id == "401001"


def test_not_found_and_volume_price() -> None:
    driver = make()
    with mocked("digitalocean") as api:
        api.add("GET", f"/v2/volumes/{V1}", {"id": "not_found", "message": "volume not found"}, status=404)
        with pytest.raises(NotFoundError):
            driver.ex_get_volume(V1)
    assert driver.ex_volume_price(100) == pytest.approx(0.015)
