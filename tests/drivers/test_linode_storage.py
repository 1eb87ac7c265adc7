"""Linode volumes, images from disks and IP addresses: requests checked against the official
descriptions, refusals send nothing, waits bounded (events), errors mapped."""

from __future__ import annotations

import pytest
from _storage_support import FIXTURES, fixture, mocked, validator

from cloudkit import StorageVolumeState
from cloudkit.drivers.linode import LinodeNodeDriver
from cloudkit.errors import NotSupportedError, ProviderError, ValidationError, WaitTimeoutError
from cloudkit.models import Node, NodeState
from cloudkit.testing.openapi import validate_body

EVENTS = "/v4/account/events?page=1&page_size=25"
INDEX = {
    "GET_v4_volumes.json": ("GET", "/v4/volumes?page=1&page_size=500", 200),
    "GET_v4_volumes_880001_detached.json": ("GET", "/v4/volumes/880001", 200),
    "GET_v4_volumes_880001_attached.json": ("GET", "/v4/volumes/880001", 200),
    "GET_v4_volumes_880001_elsewhere.json": ("GET", "/v4/volumes/880001", 200),
    "GET_v4_volumes_880001_resizing.json": ("GET", "/v4/volumes/880001", 200),
    "GET_v4_volumes_880001_resized.json": ("GET", "/v4/volumes/880001", 200),
    "GET_v4_volumes_880004_active.json": ("GET", "/v4/volumes/880004", 200),
    "POST_v4_volumes.json": ("POST", "/v4/volumes", 200),
    "POST_v4_volumes_880001_clone.json": ("POST", "/v4/volumes/880001/clone", 200),
    "GET_v4_account_events_none.json": ("GET", EVENTS, 200),
    "GET_v4_account_events_attach_started.json": ("GET", EVENTS, 200),
    "GET_v4_account_events_attach_finished.json": ("GET", EVENTS, 200),
    "GET_v4_account_events_attach_failed.json": ("GET", EVENTS, 200),
    "GET_v4_account_events_detach_finished.json": ("GET", EVENTS, 200),
    "GET_v4_volumes_types.json": ("GET", "/v4/volumes/types", 200),
    "GET_v4_networking_ips.json": ("GET", "/v4/networking/ips", 200),
    "GET_v4_linode_instances_61234501_ips.json": ("GET", "/v4/linode/instances/61234501/ips", 200),
    "POST_v4_linode_instances_61234501_ips.json": ("POST", "/v4/linode/instances/61234501/ips", 200),
    "POST_v4_images.json": ("POST", "/v4/images", 200),
    "GET_v4_images_private_3300101_available.json": ("GET", "/v4/images/private/3300101", 200),
    "GET_v4_linode_instances_61234501_disks.json": ("GET", "/v4/linode/instances/61234501/disks?page=1&page_size=500",
                                                    200),
    "error_400_volume_attached.json": ("DELETE", "/v4/volumes/880001", 400),
}


def make() -> LinodeNodeDriver:
    driver = LinodeNodeDriver("lin-TEST-0123456789abcdef", max_retries=0)
    driver.storage_poll_interval = 0.0
    return driver


def linode(region: str = "us-east", node_id: str = "61234501") -> Node:
    return Node(node_id, "web-1", NodeState.RUNNING, [], [], None, extra={"location": region})


def test_every_storage_fixture_is_indexed_and_validates() -> None:
    assert {p.name for p in FIXTURES["linode"].glob("*.json")} == set(INDEX)
    for name, (method, path, status) in INDEX.items():
        validate_body(validator("linode"), method, path, status, fixture("linode", name))


def test_list_volumes_names_region_and_attachment() -> None:
    with mocked("linode") as api:
        api.add("GET", "/v4/volumes", "GET_v4_volumes.json")
        volumes = make().list_volumes()
    assert [(v.id, v.name, v.size, v.extra["region"], v.extra["linode_id"], v.state) for v in volumes] == [
        ("880001", "data-1", 100, "us-east", None, StorageVolumeState.AVAILABLE),
        ("880002", "data-2", 250, "us-east", "61234501", StorageVolumeState.INUSE),
        ("880003", "logs-west", 20, "us-west", None, StorageVolumeState.AVAILABLE)]


def test_create_volume_in_region_or_on_a_node_and_refusals_send_nothing() -> None:
    driver = make()
    with mocked("linode") as api:
        api.add("POST", "/v4/volumes", "POST_v4_volumes.json")
        api.add("POST", "/v4/volumes", "POST_v4_volumes.json")
        driver.create_volume(100, "data-1", "us-east", tags=["cloudkit"])
        driver.create_volume(size=100, name="data-1", node=linode())
    assert api.body(0) == {"label": "data-1", "size": 100, "region": "us-east", "tags": ["cloudkit"]}
    assert api.body(1) == {"label": "data-1", "size": 100, "linode_id": 61234501}
    with mocked("linode") as api:
        for args, kwargs in [((9, "data-1", "us-east"), {}), ((10241, "data-1", "us-east"), {}),
                             ((10, "1bad", "us-east"), {}), ((10, "data-1"), {}),
                             ((10, "data-1", "us-west"), {"node": linode()})]:
            with pytest.raises(ValidationError):
                driver.create_volume(*args, **kwargs)
        with pytest.raises(NotSupportedError, match="no volume snapshots"):
            driver.create_volume(10, "data-1", "us-east", snapshot="1")
    assert api.sent == []


def test_attach_waits_for_the_finished_event() -> None:
    driver = make()
    volume = driver._to_volume(fixture("linode", "GET_v4_volumes_880001_detached.json"))
    with mocked("linode") as api:
        api.add("GET", "/v4/account/events", "GET_v4_account_events_none.json")
        api.add("POST", "/v4/volumes/880001/attach", "GET_v4_volumes_880001_attached.json")
        api.add("GET", "/v4/account/events", "GET_v4_account_events_attach_started.json")
        api.add("GET", "/v4/account/events", "GET_v4_account_events_attach_finished.json")
        api.add("GET", "/v4/volumes/880001", "GET_v4_volumes_880001_attached.json")
        assert driver.attach_volume(linode(), volume, persist_across_boots=False)
    assert api.body(1) == {"linode_id": 61234501, "persist_across_boots": False}
    assert '"entity.id":880001' in api.traffic.calls[0].headers["X-Filter"]
    assert volume.extra["linode_id"] == "61234501" and volume.state is StorageVolumeState.INUSE


def test_a_failed_event_raises_and_waits_are_bounded() -> None:
    driver = make()
    volume = driver._to_volume(fixture("linode", "GET_v4_volumes_880001_detached.json"))
    with mocked("linode") as api:
        api.add("GET", "/v4/account/events", "GET_v4_account_events_none.json")
        api.add("POST", "/v4/volumes/880001/attach", "GET_v4_volumes_880001_attached.json")
        api.add("GET", "/v4/account/events", "GET_v4_account_events_attach_failed.json")
        with pytest.raises(ProviderError, match=r"volume_attach.*failed"):
            driver.attach_volume(linode(), volume)
    with mocked("linode") as api:
        api.rsps.assert_all_requests_are_fired = False
        api.add("GET", "/v4/account/events", "GET_v4_account_events_none.json")
        api.add("POST", "/v4/volumes/880001/attach", "GET_v4_volumes_880001_attached.json")
        for _ in range(300):
            api.add("GET", "/v4/account/events", "GET_v4_account_events_attach_started.json")
        with pytest.raises(WaitTimeoutError, match="volume_attach of volume 880001"):
            driver.attach_volume(linode(), volume, timeout=0.05)
    assert len(api.sent) < 300


def test_cross_region_and_elsewhere_refusals() -> None:
    driver = make()
    volume = driver._to_volume(fixture("linode", "GET_v4_volumes_880001_detached.json"))
    with mocked("linode") as api:
        with pytest.raises(ValidationError, match=r"us-east.*us-west"):
            driver.attach_volume(linode("us-west"), volume)
    assert api.sent == []
    stale = driver._to_volume(fixture("linode", "GET_v4_volumes_880001_elsewhere.json"))
    with mocked("linode") as api:
        api.add("GET", "/v4/volumes/880001", "GET_v4_volumes_880001_elsewhere.json")
        with pytest.raises(ValidationError, match="attached to Linode 61234502"):
            driver.attach_volume(linode(), stale)
    assert api.sent == [("GET", "/v4/volumes/880001")]


def test_detach_destroy_and_resize() -> None:
    driver = make()
    with mocked("linode") as api:
        api.add("GET", "/v4/volumes/880001", "GET_v4_volumes_880001_attached.json")
        with pytest.raises(ValidationError, match="attached to Linode 61234501"):
            driver.destroy_volume("880001")
    assert api.sent == [("GET", "/v4/volumes/880001")]
    with mocked("linode") as api:
        api.add("GET", "/v4/volumes/880001", "GET_v4_volumes_880001_attached.json")
        api.add("GET", "/v4/account/events", "GET_v4_account_events_none.json")
        api.add("POST", "/v4/volumes/880001/detach", {})
        api.add("GET", "/v4/account/events", "GET_v4_account_events_detach_finished.json")
        api.add("GET", "/v4/volumes/880001", "GET_v4_volumes_880001_detached.json")
        api.add("DELETE", "/v4/volumes/880001", {})
        assert driver.destroy_volume("880001", ex_detach=True)
    volume = driver._to_volume(fixture("linode", "GET_v4_volumes_880001_detached.json"))
    with mocked("linode") as api:
        api.add("POST", "/v4/volumes/880001/resize", "GET_v4_volumes_880001_resizing.json")
        api.add("GET", "/v4/volumes/880001", "GET_v4_volumes_880001_resizing.json")
        api.add("GET", "/v4/volumes/880001", "GET_v4_volumes_880001_resized.json")
        assert driver.ex_resize_volume(volume, 200)
    assert api.body(0) == {"size": 200} and volume.size == 200
    with mocked("linode") as api:
        api.add("GET", "/v4/volumes/880001", "GET_v4_volumes_880001_resized.json")
        with pytest.raises(ValidationError, match="only grow"):
            driver.ex_resize_volume("880001", 150)
    assert api.sent == [("GET", "/v4/volumes/880001")]


def test_provider_error_maps() -> None:
    driver = make()
    volume = driver._to_volume(fixture("linode", "GET_v4_volumes_880001_detached.json"))
    with mocked("linode") as api:
        api.add("DELETE", "/v4/volumes/880001", "error_400_volume_attached.json", status=400)
        with pytest.raises(ValidationError, match="must be detached") as info:
            driver.destroy_volume(volume)
    assert info.value.status == 400


def test_clone_image_addresses_and_price() -> None:
    driver = make()
    with mocked("linode") as api:
        api.add("POST", "/v4/volumes/880001/clone", "POST_v4_volumes_880001_clone.json")
        api.add("GET", "/v4/volumes/880004", "GET_v4_volumes_880004_active.json")
        api.add("GET", "/v4/linode/instances/61234501/disks", "GET_v4_linode_instances_61234501_disks.json")
        api.add("POST", "/v4/images", "POST_v4_images.json")
        api.add("GET", "/v4/images/private/3300101", "GET_v4_images_private_3300101_available.json")
        api.add("DELETE", "/v4/images/private/3300101", {})
        api.add("GET", "/v4/networking/ips", "GET_v4_networking_ips.json")
        api.add("GET", "/v4/linode/instances/61234501/ips", "GET_v4_linode_instances_61234501_ips.json")
        api.add("POST", "/v4/linode/instances/61234501/ips", "POST_v4_linode_instances_61234501_ips.json")
        api.add("POST", "/v4/networking/ipv4/share", {})
        api.add("GET", "/v4/volumes/types", "GET_v4_volumes_types.json")
        clone = driver.ex_clone_volume("880001", "data-1-copy")
        image = driver.create_image(linode(), "web-golden", "golden web image")
        assert driver.delete_image(image=image)
        everything = driver.ex_list_addresses()
        mine = driver.ex_list_node_addresses("61234501")
        private = driver.ex_allocate_private_address(linode())
        assert driver.ex_share_address(linode(), [private])
        price = driver.ex_volume_price(100)
    assert clone.id == "880004" and clone.state is StorageVolumeState.AVAILABLE
    assert api.body(3) == {"disk_id": 25674, "label": "web-golden", "description": "golden web image"}
    assert (image.id, image.extra["status"]) == ("private/3300101", "available")
    assert [a.inet for a in everything] == ["198.51.100.21", "192.168.139.20"]
    assert [(a.inet, a.public) for a in mine] == [("198.51.100.21", True)]
    assert api.body(8) == {"type": "ipv4", "public": False}
    assert api.body(9) == {"linode_id": 61234501, "ips": ["192.168.139.20"]}
    assert price == pytest.approx(0.015)


def test_snapshot_methods_say_linode_has_none() -> None:
    driver = make()
    with mocked("linode") as api:
        for call in (lambda: driver.list_volume_snapshots("880001"),
                     lambda: driver.create_volume_snapshot("880001", "x"),
                     lambda: driver.destroy_volume_snapshot("1")):
            with pytest.raises(NotImplementedError, match="no volume snapshots"):
                call()
    assert api.sent == []
