"""Linode nodes: listing every page (concurrently), get_node, tag filter, state map, IPs, dates."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator

import pytest
from drivers._linode_support import SPEC, LinodeAPI, linode_api, load, make_driver
from responses import matchers

from cloudkit import NodeState, Provider, get_driver
from cloudkit.drivers.linode import LINODE_STATE_MAP, LinodeNodeDriver
from cloudkit.errors import MalformedResponseError, NotFoundError, ValidationError

PAGE = {"page_size": "500"}


@pytest.fixture(autouse=True)
def api() -> Iterator[LinodeAPI]:
    with linode_api() as mocked:
        yield mocked


def add_pages(api: LinodeAPI) -> None:
    for page in (1, 2, 3):
        api.add("GET", "/v4/linode/instances", f"GET_v4_linode_instances_page{page}.json",
                query={"page": str(page), **PAGE})


def test_registry_returns_the_linode_driver() -> None:
    assert get_driver(Provider.LINODE) is LinodeNodeDriver
    assert get_driver("linode").type == "linode"


def test_list_nodes_returns_every_instance_of_every_page_exactly_once(api: LinodeAPI) -> None:
    add_pages(api)
    nodes = make_driver().list_nodes()
    assert [n.id for n in nodes] == ["61234501", "61234502", "61234503", "61234504", "61234505"]
    assert len({n.id for n in nodes}) == 5
    assert [n.name for n in nodes] == ["web-1", "db-1", "build.runner_3", "cache-1", "staging-2"]
    sent = sorted((c.query["page"][0], c.query["page_size"][0]) for c in api.calls)
    assert sent == [("1", "500"), ("2", "500"), ("3", "500")]
    assert all(c.headers["Authorization"].startswith("Bearer ") for c in api.calls)


def test_list_nodes_fetches_remaining_pages_concurrently(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances", "GET_v4_linode_instances_page1.json", query={"page": "1", **PAGE})
    barrier = threading.Barrier(2, timeout=5)
    met: list[bool] = []

    def page(number: int):  # type: ignore[no-untyped-def]
        def answer(request):  # type: ignore[no-untyped-def]
            try:
                barrier.wait()  # returns only when pages 2 and 3 are in flight together
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)
            return 200, {"Content-Type": "application/json"}, json.dumps(
                load(f"GET_v4_linode_instances_page{number}.json"))
        return answer

    for number in (2, 3):
        api.add_callback("GET", "/v4/linode/instances", page(number), query={"page": str(number), **PAGE})
    nodes = make_driver().list_nodes()
    assert met == [True, True]
    assert len(nodes) == 5
    assert api.calls[0].query["page"] == ["1"]  # page 1 first, alone


def test_list_nodes_single_page(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances", json_body={"data": [], "page": 1, "pages": 1, "results": 0},
            query={"page": "1", **PAGE})
    assert make_driver().list_nodes() == []
    assert len(api.calls) == 1


def test_list_nodes_by_tag_filters_on_the_server_with_x_filter(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances", "GET_v4_linode_instances_tag_web.json", query={"page": "1", **PAGE},
            match=[matchers.header_matcher({"X-Filter": '{"tags":"web"}'})])
    nodes = make_driver().list_nodes(tag="web")
    assert [n.id for n in nodes] == ["61234501", "61234505"]
    assert all("web" in n.tags for n in nodes)
    assert json.loads(api.calls[0].headers["X-Filter"]) == {"tags": "web"}


def test_list_nodes_by_tag_drops_rows_the_server_should_not_have_sent(api: LinodeAPI) -> None:
    body = load("GET_v4_linode_instances_tag_web.json")
    body["data"][1]["tags"] = ["webserver"]  # a looser match than asked for
    api.add("GET", "/v4/linode/instances", json_body=body, query={"page": "1", **PAGE})
    assert [n.id for n in make_driver().list_nodes(tag="web")] == ["61234501"]


def test_list_nodes_refuses_an_empty_tag_before_any_request(api: LinodeAPI) -> None:
    with pytest.raises(ValidationError):
        make_driver().list_nodes(tag="")
    assert api.calls == []


def test_node_fields_follow_the_instance(api: LinodeAPI) -> None:
    add_pages(api)
    web, db, build, cache, staging = make_driver().list_nodes()
    assert web.state is NodeState.RUNNING
    assert web.public_ips == ["45.79.141.20"]
    assert web.private_ips == ["192.168.139.17"]
    assert web.extra["ipv6"] == "2600:3c03::f03c:94ff:fe5a:1b2c"
    assert web.extra["ipv6_prefix_length"] == 128
    assert web.created_at == dt.datetime(2024, 3, 11, 9, 15, 42, tzinfo=dt.UTC)
    assert web.created_at.utcoffset() == dt.timedelta(0)
    assert web.tags == ["prod", "web"]
    assert web.size is not None and web.size.id == "g6-standard-2"
    assert (web.size.ram, web.size.disk, web.size.vcpus, web.size.bandwidth) == (4096, 80, 2, 4000)
    assert web.image is not None and web.image.id == "linode/debian12"
    assert web.extra["location"] == "us-east"
    assert web.extra["backups"]["enabled"] is True
    assert web.extra["updated"] == dt.datetime(2024, 10, 21, 7, 0, 12, tzinfo=dt.UTC)
    assert web.driver is not None and web.driver.name == "Linode"

    assert db.state is NodeState.STOPPED
    assert (db.public_ips, db.private_ips) == (["50.116.62.14"], [])

    assert build.state is NodeState.PENDING
    assert build.image is None
    assert build.extra["ipv6"] is None
    assert build.tags == []

    assert cache.state is NodeState.REBOOTING
    assert cache.private_ips == ["192.168.200.45"]
    assert cache.extra["lke_cluster_id"] == 218841

    assert staging.state is NodeState.MIGRATING
    assert staging.image is not None and staging.image.id == "private/26512345"
    assert staging.extra["disk_encryption"] == "enabled"  # a field newer than the spec is kept


def test_public_ips_are_ipv4_only_and_private_ranges_split() -> None:
    body = load("GET_v4_linode_instances_61234501.json")
    body["ipv4"] = ["45.79.141.20", "192.168.139.17", "10.0.0.5", "172.16.3.4", "172.32.0.1", "100.64.0.9"]
    node = make_driver()._to_node(body)
    assert node.public_ips == ["45.79.141.20", "172.32.0.1", "100.64.0.9"]
    assert node.private_ips == ["192.168.139.17", "10.0.0.5", "172.16.3.4"]
    assert not any(":" in ip for ip in node.public_ips)


@pytest.mark.parametrize(("raw", "address", "prefix"), [
    ("2600:3c03::f03c:94ff:fe5a:1b2c/128", "2600:3c03::f03c:94ff:fe5a:1b2c", 128),
    ("2600:3c03::f03c:94ff:fe5a:1b2c/64", "2600:3c03::f03c:94ff:fe5a:1b2c", 64),
    ("2600:3c03::1", "2600:3c03::1", None),
    (None, None, None),
])
def test_ipv6_slaac_prefix_length_is_stripped(raw: str | None, address: str | None, prefix: int | None) -> None:
    body = load("GET_v4_linode_instances_61234501.json")
    body["ipv6"] = raw
    node = make_driver()._to_node(body)
    assert node.extra["ipv6"] == address
    assert node.extra["ipv6_prefix_length"] == prefix


def test_state_map_covers_every_documented_status() -> None:
    spec = json.loads(SPEC.read_text())
    documented = spec["paths"]["/{apiVersion}/linode/instances/{linodeId}"]["get"]["responses"]["200"][
        "content"]["application/json"]["schema"]["properties"]["status"]["enum"]
    assert set(documented) <= set(LINODE_STATE_MAP)
    expected = {
        "running": NodeState.RUNNING, "offline": NodeState.STOPPED, "stopped": NodeState.STOPPED,
        "booting": NodeState.STARTING, "rebooting": NodeState.REBOOTING, "shutting_down": NodeState.STOPPING,
        "provisioning": NodeState.PENDING, "busy": NodeState.PENDING, "rebuilding": NodeState.PENDING,
        "restoring": NodeState.PENDING, "cloning": NodeState.PENDING, "deleting": NodeState.PENDING,
        "migrating": NodeState.MIGRATING, "billing_suspension": NodeState.SUSPENDED,
        "resizing": NodeState.RECONFIGURING,
    }
    assert expected == LINODE_STATE_MAP
    driver = make_driver()
    for status, state in expected.items():
        body = load("GET_v4_linode_instances_61234501.json")
        body["status"] = status
        assert driver._to_node(body).state is state
    body["status"] = "teleporting"
    assert driver._to_node(body).state is NodeState.UNKNOWN


def test_get_node(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances/61234502", "GET_v4_linode_instances_61234502.json")
    node = make_driver().get_node("61234502")
    assert (node.id, node.name, node.state) == ("61234502", "db-1", NodeState.STOPPED)
    assert [c.path for c in api.calls] == ["/v4/linode/instances/61234502"]


def test_get_node_missing_raises_not_found(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances/99", "error_404.json", status=404)
    with pytest.raises(NotFoundError, match="Not found"):
        make_driver().get_node("99")


@pytest.mark.parametrize("bad", ["", "abc", "12/../13", "١٢٣"])
def test_get_node_refuses_a_non_numeric_id_before_any_request(bad: str, api: LinodeAPI) -> None:
    with pytest.raises(ValidationError):
        make_driver().get_node(bad)
    assert api.calls == []


@pytest.mark.parametrize("body", [
    [], {"data": {}}, {"data": [1]}, {"data": [{"id": 1}]}, {"data": [], "pages": "3"}, "x",
    {"data": [{"id": 1, "label": "a", "status": "running", "ipv4": "1.2.3.4"}]},
])
def test_a_malformed_listing_raises_malformed_response_error(body: object, api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances", json_body=body, query={"page": "1", **PAGE})
    api.traffic.responses_too = False  # the body is broken on purpose
    with pytest.raises(MalformedResponseError):
        make_driver().list_nodes()

