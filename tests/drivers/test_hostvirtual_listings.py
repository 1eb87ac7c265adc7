"""HostVirtual listings: nodes, one node, plans, images, locations, credentials check."""

from __future__ import annotations

import pytest
from drivers._hostvirtual_support import (
    API_KEY,
    FIXTURE_ENDPOINTS,
    FIXTURES,
    HostVirtualAPI,
    api_fixture,  # noqa: F401  (a fixture)
    driver_fixture,  # noqa: F401  (a fixture)
    load,
)

from cloudkit import NodeState, Provider, get_driver
from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver
from cloudkit.errors import (
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    ServerError,
    ValidationError,
)


def test_registry_and_fixture_map() -> None:
    assert get_driver(Provider.HOSTVIRTUAL) is HostVirtualNodeDriver
    assert get_driver("hostvirtual") is HostVirtualNodeDriver
    assert {p.name for p in FIXTURES.glob("*.json")} == set(FIXTURE_ENDPOINTS)
    assert (FIXTURES / "README.md").is_file()


def test_list_nodes(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_servers.json")
    nodes = driver.list_nodes()
    assert [n.id for n in nodes] == ["412017", "412018", "412019", "409961", "412021", "412022"]
    assert [n.name for n in nodes] == ["app1.cloudkit-test.net", "db1.cloudkit-test.net",
                                       "build1.cloudkit-test.net", "old1.cloudkit-test.net",
                                       "halt1.cloudkit-test.net", "odd1.cloudkit-test.net"]
    assert [n.state for n in nodes] == [NodeState.RUNNING, NodeState.STOPPED, NodeState.PENDING,
                                        NodeState.TERMINATED, NodeState.STOPPING, NodeState.UNKNOWN]
    first = nodes[0]
    assert first.public_ips == ["203.0.113.10", "2001:db8:100::10"]
    assert first.private_ips == []
    assert first.tags == []
    assert first.driver is driver
    assert first.extra["size"] == "101"
    assert first.extra["image"] == "3101"
    assert first.extra["location"] == "21"
    assert first.extra["installed"] is True
    assert first.extra["locked"] is False
    assert first.extra["package"] == "VR1G"
    assert first.extra["city"] == "LAX - Los Angeles, CA"
    # Empty and null ipv6 are not addresses.
    assert nodes[3].public_ips == ["198.51.100.41"]
    assert nodes[5].public_ips == ["192.0.2.77"]
    assert nodes[5].extra["status"] == "MIGRATING"
    assert nodes[3].extra["installed"] is False
    (call,) = api.calls
    assert (call.method, call.path) == ("GET", "/cloud/servers/")
    assert call.query == {"key": API_KEY}


def test_status_text_is_read_case_insensitively(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    row = dict(load("GET_cloud_servers.json")[0], status=" running")
    api.reply(method="GET", path="/cloud/servers/", body=[row, dict(row, mbpkgid=7, status=None)])
    nodes = driver.list_nodes()
    assert [n.state for n in nodes] == [NodeState.RUNNING, NodeState.UNKNOWN]
    assert nodes[1].id == "7"


def test_list_nodes_empty_account_answers_404(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_servers_404_empty.json")
    assert driver.list_nodes() == []


def test_list_nodes_bad_key(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_servers_401.json")
    with pytest.raises(InvalidCredsError) as info:
        driver.list_nodes()
    assert info.value.status == 401
    assert info.value.message == "Unauthorized: API key not recognised"
    assert info.value.code == "401"


def test_list_nodes_tag_filter_is_client_side(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_servers.json")
    assert driver.list_nodes(tag="web") == []
    assert api.route() == [("GET", "/cloud/servers/")]
    with pytest.raises(ValidationError):
        driver.list_nodes(tag="")


def test_get_node(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_server.json")
    node = driver.get_node("412017")
    assert (node.id, node.name, node.state) == ("412017", "app1.cloudkit-test.net", NodeState.RUNNING)
    assert node.public_ips == ["203.0.113.10", "2001:db8:100::10"]
    # The get-one reply has no plan_id / location_id: nothing is invented.
    assert "size" not in node.extra and "location" not in node.extra
    assert node.extra["image"] == "3101"
    (call,) = api.calls
    assert call.path == "/cloud/server"
    assert call.query["mbpkgid"] == "412017"


def test_get_node_accepts_a_one_element_array(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="GET", path="/cloud/server?mbpkgid=412017", body=[load("GET_cloud_server.json")])
    assert driver.get_node("412017").id == "412017"
    api.reply(method="GET", path="/cloud/server?mbpkgid=412099", body=[])
    with pytest.raises(NotFoundError):
        driver.get_node("412099")


@pytest.mark.parametrize("fixture", ["GET_cloud_server_404.json", "GET_cloud_server_412_not_built.json"])
def test_get_node_missing(api: HostVirtualAPI, driver: HostVirtualNodeDriver, fixture: str) -> None:
    api.reply(fixture)
    node_id = FIXTURE_ENDPOINTS[fixture][1].rsplit("=", 1)[1]
    with pytest.raises(NotFoundError) as info:
        driver.get_node(node_id)
    assert "Not Found" in str(info.value) or "not built" in str(info.value)


@pytest.mark.parametrize("bad", ["", "  ", "../412017", "412017?x=1", "a/b", None, True])
def test_get_node_refuses_bad_ids_before_sending(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                                 bad: object) -> None:
    with pytest.raises(ValidationError):
        driver.get_node(bad)  # type: ignore[arg-type]
    assert api.calls == []


def test_list_sizes(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_sizes.json")
    sizes = driver.list_sizes()
    assert [s.id for s in sizes] == ["101", "102", "104", "108", "116"]
    assert [s.name for s in sizes] == ["VR1G", "VR2G", "VR4G", "VR8G", "VRBL16G"]
    assert [s.ram for s in sizes] == [1024, 2048, 4096, 8192, 16384]
    assert [s.disk for s in sizes] == [20, 40, 80, 160, 320]
    assert [s.bandwidth for s in sizes] == [1000, 2000, 4000, 6000, 10000]
    assert [s.price for s in sizes] == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.16])
    assert [s.extra["price_monthly"] for s in sizes] == pytest.approx([7.3, 14.6, 29.2, 58.4, 116.8])
    assert sizes[4].extra["available"] == 0
    assert sizes[0].vcpus is None


def test_list_sizes_in_a_location(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_sizes_location_33.json")
    sizes = driver.list_sizes(location="33")
    assert [s.id for s in sizes] == ["101", "102"]
    assert sizes[0].extra["location"] == "33"
    assert api.calls[0].query == {"key": API_KEY, "location": "33"}


def test_list_sizes_server_error(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_sizes_500.json")
    with pytest.raises(ServerError, match="plan catalogue unavailable"):
        driver.list_sizes()


def test_list_images(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_images.json")
    images = driver.list_images()
    assert [(i.id, i.name) for i in images] == [
        ("3101", "Ubuntu 22.04 LTS x64"), ("3102", "Debian 12 x64"), ("3103", "Rocky Linux 9 x64"),
        ("2990", "Debian 9 i386")]
    assert images[0].extra["type"] == "ubuntu"
    assert images[3].extra["bits"] == "32"
    assert "id" not in images[0].extra and "os" not in images[0].extra


def test_list_images_bad_key(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_images_401.json")
    with pytest.raises(InvalidCredsError):
        driver.list_images()


@pytest.mark.parametrize("fixture", ["GET_cloud_locations.json", "GET_cloud_locations_pre2017_array.json"])
def test_list_locations_both_shapes(api: HostVirtualAPI, driver: HostVirtualNodeDriver, fixture: str) -> None:
    api.reply(fixture)
    locations = driver.list_locations()
    assert [loc.id for loc in locations] == ["9", "21", "33", "40"]  # sorted by numeric id
    assert [loc.name for loc in locations] == ["DFW - Dallas TX", "LAX - Los Angeles, CA",
                                               "AMS - Amsterdam, NL", "HKG - Hong Kong, HK"]
    assert [loc.country for loc in locations] == [None, "CA", "NL", "HK"]
    assert locations[1].extra == {"code": "LAX", "city": "Los Angeles", "region": "CA"}
    assert locations[0].extra == {"code": "DFW", "city": "Dallas TX"}


def test_list_locations_refuses_other_shapes(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="GET", path="/cloud/locations/", body="LAX")
    with pytest.raises(MalformedResponseError):
        driver.list_locations()


def test_list_locations_server_error(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_locations_500.json")
    with pytest.raises(ServerError):
        driver.list_locations()


def test_verify_credentials(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_servers.json")
    assert driver.verify_credentials() is True
    assert api.route() == [("GET", "/cloud/servers/")]


def test_verify_credentials_on_an_empty_account(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_servers_404_empty.json")
    assert driver.verify_credentials() is True


def test_verify_credentials_bad_key(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_servers_401.json")
    with pytest.raises(InvalidCredsError):
        driver.verify_credentials()


def test_capabilities(driver: HostVirtualNodeDriver) -> None:
    assert driver.features["create_node"] == ["ssh_key", "password", "generates_password"]
    for name in ("list_nodes", "get_node", "create_node", "reboot_node", "start_node", "stop_node",
                 "destroy_node", "list_sizes", "list_images", "list_locations", "list_key_pairs",
                 "import_key_pair_from_string", "create_key_pair", "delete_key_pair", "verify_credentials",
                 "ex_list_packages", "ex_build_node", "ex_delete_node", "ex_cancel_package"):
        assert driver.supports(name), name
    for name in ("ex_create_tag", "ex_tag_node", "ex_untag_node"):
        support = driver.supports(name)
        assert not support
        assert "no tags" in support.reason
