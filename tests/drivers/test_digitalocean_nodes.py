"""DigitalOcean droplets: listing (paging), get, states, addresses, tags, create, destroy."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from drivers._digitalocean_support import (
    RATE_HEADERS,
    TOKEN,
    add,
    checked,
    fixture,
    make_driver,
    path_re,
)

from cloudkit import NodeState, get_driver
from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.errors import (
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    ValidationError,
)
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey, NodeImage, NodeLocation, NodeSize
from cloudkit.sshkeys import fingerprint_md5, generate_key_pair

PAGES = {1: "GET_v2_droplets_page1.json", 2: "GET_v2_droplets_page2.json", 3: "GET_v2_droplets_page3.json"}


def _query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def _serve_pages(mock: responses.RequestsMock, pages: dict[int, Any], seen: list[dict[str, str]],
                 barrier: threading.Barrier | None = None) -> None:
    lock = threading.Lock()

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        query = _query(request)
        if query.get("type") == "gpus":  # an account without GPU droplets
            return 200, dict(RATE_HEADERS), json.dumps(fixture("GET_v2_droplets_empty.json"))
        with lock:
            seen.append(query)
        page = int(query.get("page", "1"))
        if barrier is not None and page > 1:
            barrier.wait()  # only passes when the later pages are in flight at the same time
        body = pages[page]
        return 200, dict(RATE_HEADERS), json.dumps(fixture(body) if isinstance(body, str) else body)

    mock.add_callback("GET", path_re("/v2/droplets"), callback=answer, content_type="application/json")


# -- registry and construction ----------------------------------------------------------------


def test_registered_under_digitalocean() -> None:
    assert get_driver("digitalocean") is DigitalOceanNodeDriver
    driver = DigitalOceanNodeDriver(TOKEN)
    assert driver.connection.base_url == "https://api.digitalocean.com"
    assert TOKEN not in repr(driver)


def test_base_url_can_be_overridden_for_a_simulator() -> None:
    driver = DigitalOceanNodeDriver(TOKEN, base_url="http://127.0.0.1:8080")
    assert driver.connection.url_for("/v2/droplets") == "http://127.0.0.1:8080/v2/droplets"


@pytest.mark.parametrize("key", ["", "   "])
def test_empty_token_refused(key: str) -> None:
    with pytest.raises(ConfigurationError):
        DigitalOceanNodeDriver(key)


def test_secret_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        DigitalOceanNodeDriver(TOKEN, "a-secret")
    assert "a-secret" not in str(info.value)


# -- listing ----------------------------------------------------------------------------------


def test_list_nodes_three_pages_each_droplet_once_and_later_pages_concurrent() -> None:
    driver = make_driver()
    seen: list[dict[str, str]] = []
    with checked() as (mock, traffic):
        _serve_pages(mock, PAGES, seen, barrier=threading.Barrier(2, timeout=5))
        nodes = driver.list_nodes()
    assert [n.id for n in nodes] == ["401001", "401002", "401003", "401004", "401005"]
    assert len({n.id for n in nodes}) == 5
    assert sorted(int(q["page"]) for q in seen) == [1, 2, 3]
    assert all(q["per_page"] == "200" for q in seen)
    assert seen[0]["page"] == "1"  # the first page alone, then the rest
    assert all(call.headers["Authorization"] == f"Bearer {TOKEN}" for call in traffic.calls)


def test_list_nodes_pages_from_meta_total_when_links_are_missing() -> None:
    template = fixture("GET_v2_droplets_401001.json")["droplet"]

    def page(first_id: int, count: int) -> dict[str, Any]:
        droplets = []
        for i in range(count):
            d = copy.deepcopy(template)
            d["id"], d["name"] = first_id + i, f"node-{first_id + i}"
            droplets.append(d)
        return {"droplets": droplets, "links": {}, "meta": {"total": 405}}

    pages = {1: page(1, 200), 2: page(201, 200), 3: page(401, 5)}
    driver = make_driver()
    seen: list[dict[str, str]] = []
    with checked(responses_too=False) as (mock, _):
        _serve_pages(mock, pages, seen)
        nodes = driver.list_nodes()
    assert len(nodes) == 405
    assert [n.id for n in nodes] == [str(i) for i in range(1, 406)]
    assert sorted(int(q["page"]) for q in seen) == [1, 2, 3]


def test_list_nodes_drops_a_droplet_repeated_across_pages() -> None:
    page1, page2 = fixture(PAGES[1]), fixture(PAGES[2])
    page2["droplets"].insert(0, copy.deepcopy(page1["droplets"][1]))  # shifted by a deletion
    pages = {1: page1, 2: page2, 3: PAGES[3]}
    driver = make_driver()
    with checked() as (mock, _):
        _serve_pages(mock, pages, [])
        ids = [n.id for n in driver.list_nodes()]
    assert ids == ["401001", "401002", "401003", "401004", "401005"]


def test_list_nodes_single_empty_page() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/droplets", "GET_v2_droplets_empty.json")
        assert driver.list_nodes() == []
    assert len(traffic.calls) == 2  # one empty page of droplets, one of GPU droplets
    assert sorted(c.query.get("type", ["-"])[0] for c in traffic.calls) == ["-", "gpus"]


def test_list_nodes_by_tag_filters_on_the_server() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/droplets", "GET_v2_droplets_tag_name_web.json")
        nodes = driver.list_nodes(tag="web")
    assert [n.name for n in nodes] == ["web-1", "web-2"]
    assert all("web" in n.tags for n in nodes)
    assert traffic.calls[0].query["tag_name"] == ["web"]


@pytest.mark.parametrize("tag", ["", "has space", "a/b", "x" * 256])
def test_list_nodes_bad_tag_refused_before_any_request(tag: str) -> None:
    driver = make_driver()
    with checked() as (_, traffic), pytest.raises(ValidationError):
        driver.list_nodes(tag=tag)
    assert traffic.calls == []


def test_listing_that_is_not_a_listing_is_malformed() -> None:
    driver = make_driver()
    with checked(responses_too=False) as (mock, _):
        add(mock, "GET", "/v2/droplets", [1, 2, 3])
        with pytest.raises(MalformedResponseError):
            driver.list_nodes()


# -- one droplet: state, addresses, size, image, created_at -----------------------------------


def _get(droplet_file: str, droplet_id: str) -> Node:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "GET", f"/v2/droplets/{droplet_id}", droplet_file)
        return driver.get_node(droplet_id)


def test_get_node_fields() -> None:
    node = _get("GET_v2_droplets_401001.json", "401001")
    assert node.id == "401001" and isinstance(node.id, str)
    assert node.name == "web-1"
    assert node.state is NodeState.RUNNING
    assert node.public_ips == ["159.203.77.14", "2604:a880:800:14::1f:a001"]
    assert node.private_ips == ["10.108.0.2"]
    assert node.created_at == dt.datetime(2024, 9, 2, 10, 15, 31, tzinfo=dt.UTC)
    assert node.tags == ["web", "env:prod"]
    assert isinstance(node.size, NodeSize)
    assert (node.size.id, node.size.ram, node.size.disk, node.size.vcpus) == ("s-1vcpu-1gb", 1024, 25, 1)
    assert node.size.price == 0.00893
    assert node.size.extra["price_monthly"] == 6.0
    assert isinstance(node.image, NodeImage)
    assert (node.image.id, node.image.name) == ("160232537", "24.04 (LTS) x64")
    assert node.image.extra["slug"] == "ubuntu-24-04-x64"
    assert node.extra["region"] == "nyc3" and node.extra["region_name"] == "New York 3"
    assert node.extra["vpc_uuid"] == "5a4981aa-9653-4bd1-bef5-d6bff52042e4"
    assert node.driver is not None


def test_nil_gateway_placeholders_become_none() -> None:
    node = _get("GET_v2_droplets_401001.json", "401001")
    by_ip = {entry["ip_address"]: entry for entry in node.extra["addresses"]}
    assert by_ip["10.108.0.2"]["gateway"] is None  # "<nil>" in the body
    assert by_ip["10.108.0.2"]["type"] == "private"
    assert by_ip["159.203.77.14"]["gateway"] == "159.203.64.1"
    assert by_ip["2604:a880:800:14::1f:a001"]["family"] == "v6"
    assert by_ip["2604:a880:800:14::1f:a001"]["netmask"] == 64


def test_public_v4_listed_before_private_whatever_the_order_and_nil_spelling() -> None:
    driver = make_driver()
    droplet = fixture("GET_v2_droplets_page1.json")["droplets"][1]  # public first, gateway "nil"
    node = driver._to_node(droplet)
    assert node.public_ips == ["159.203.80.91"]
    assert node.private_ips == ["10.108.0.3"]
    assert [e["gateway"] for e in node.extra["addresses"]] == ["159.203.64.1", None]


def test_addresses_without_type_are_classified_by_range() -> None:
    driver = make_driver()
    droplet = fixture("GET_v2_droplets_401001.json")["droplet"]
    droplet["networks"] = {"v4": [{"ip_address": "10.0.0.9"}, {"ip_address": "203.0.113.5"}], "v6": None}
    node = driver._to_node(droplet)
    assert node.public_ips == ["203.0.113.5"] and node.private_ips == ["10.0.0.9"]


@pytest.mark.parametrize(("status", "state"), [
    ("new", NodeState.PENDING), ("active", NodeState.RUNNING), ("off", NodeState.STOPPED),
    ("archive", NodeState.TERMINATED), ("migrating", NodeState.UNKNOWN), (None, NodeState.UNKNOWN),
])
def test_state_map(status: Any, state: NodeState) -> None:
    driver = make_driver()
    droplet = fixture("GET_v2_droplets_401001.json")["droplet"]
    if status is None:
        del droplet["status"]
    else:
        droplet["status"] = status
    assert driver._to_node(droplet).state is state


def test_listed_states_and_new_droplet_without_addresses() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        _serve_pages(mock, PAGES, [])
        nodes = {n.name: n for n in driver.list_nodes()}
    assert nodes["db-1"].state is NodeState.STOPPED
    assert nodes["build-7"].state is NodeState.PENDING
    assert nodes["build-7"].public_ips == [] and nodes["build-7"].private_ips == []
    assert nodes["build-7"].extra["locked"] is True
    assert nodes["old-archive"].state is NodeState.TERMINATED


def test_legacy_droplet_payload() -> None:
    """A 2014-era droplet: no size object (only size_slug), kernel object, region available
    null, no tags/vpc/volume fields, uppercase IPv6."""
    legacy = {
        "id": 3000001, "name": "legacy.example.com", "memory": 512, "vcpus": 1, "disk": 20,
        "locked": False, "status": "active",
        "kernel": {"id": 2233, "name": "Ubuntu 14.04 x64 vmlinuz", "version": "3.13.0-37-generic"},
        "created_at": "2014-11-14T16:29:21Z", "features": ["backups", "ipv6", "virtio"],
        "backup_ids": [7938002], "snapshot_ids": [],
        "image": {"id": 6918990, "name": "14.04 x64", "distribution": "Ubuntu", "slug": "ubuntu-14-04-x64",
                  "public": True, "regions": ["nyc1"], "created_at": "2014-10-17T20:24:33Z", "min_disk_size": 20},
        "size_slug": "512mb",
        "networks": {"v4": [{"ip_address": "198.51.100.7", "netmask": "255.255.192.0",
                             "gateway": "198.51.100.1", "type": "public"}],
                     "v6": [{"ip_address": "2001:DB8:0800:0010:0000:0000:02DD:4001", "netmask": 64,
                             "gateway": "2001:DB8:0800:0010:0000:0000:0000:0001", "type": "public"}]},
        "region": {"name": "New York 3", "slug": "nyc3", "sizes": [], "features": ["virtio"], "available": None},
    }
    driver = make_driver()
    node = driver._to_node(legacy)
    assert node.id == "3000001" and node.state is NodeState.RUNNING
    assert node.public_ips == ["198.51.100.7", "2001:DB8:0800:0010:0000:0000:02DD:4001"]
    assert node.private_ips == []
    assert node.tags == []
    assert node.size is not None and (node.size.id, node.size.ram, node.size.disk) == ("512mb", 512, 20)
    assert node.image is not None and node.image.id == "6918990"
    assert node.extra["kernel"]["id"] == 2233


def test_odd_embedded_image_does_not_hide_the_droplet() -> None:
    driver = make_driver()
    droplet = fixture("GET_v2_droplets_401001.json")["droplet"]
    droplet["image"] = {"name": "no id"}
    droplet["size"] = {"memory": 1024}
    node = driver._to_node(droplet)
    assert node.image is None
    assert node.size is not None and node.size.id == "s-1vcpu-1gb"  # from size_slug


@pytest.mark.parametrize("body", [
    {"name": "x"}, {"id": True, "name": "x"}, {"id": "", "name": "x"}, {"id": 1}, {"id": 1, "name": 5},
    [], "droplet", None,
])
def test_unusable_droplet_is_malformed(body: Any) -> None:
    with pytest.raises(MalformedResponseError):
        make_driver()._to_node(body)


def test_get_node_not_found_carries_the_message() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "GET", "/v2/droplets/999", "error_404.json", status=404)
        with pytest.raises(NotFoundError) as info:
            driver.get_node("999")
    assert info.value.message == "The resource you requested could not be found."
    assert info.value.code == "not_found"


@pytest.mark.parametrize(("bad", "error"), [
    ("", ValidationError), (None, ValidationError),
    ("abc", NotFoundError), ("12a", NotFoundError), ("../account", NotFoundError),
])
def test_get_node_bad_id_answered_before_any_request(bad: Any, error: type[Exception]) -> None:
    driver = make_driver()
    with checked() as (_, traffic), pytest.raises(error):
        driver.get_node(bad)
    assert traffic.calls == []


@pytest.mark.parametrize("call", [
    lambda d: d.destroy_node("abc"), lambda d: d.reboot_node("1/../2"), lambda d: d.ex_tag_node("x", "web"),
])
def test_other_calls_refuse_a_non_numeric_droplet_id(call: Any) -> None:
    driver = make_driver()
    with checked() as (_, traffic), pytest.raises(ValidationError, match="droplet id is a number"):
        call(driver)
    assert traffic.calls == []


# -- create -----------------------------------------------------------------------------------


def test_create_node_sends_the_body_and_returns_a_pending_node() -> None:
    driver = make_driver()
    size = NodeSize("s-1vcpu-1gb", "s-1vcpu-1gb", 1024, 25, 1.0, 0.00893, driver)
    image = NodeImage("160232537", "24.04 (LTS) x64", driver)
    location = NodeLocation("nyc3", "New York 3", "US", driver)
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets", "POST_v2_droplets.json", status=202)
        node = driver.create_node(
            "web-3", size, image, location, ex_ssh_keys=[512001, "3B:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"],
            ex_user_data="#cloud-config\n", ex_tags=["web"], ex_vpc_uuid="5A4981AA-9653-4bd1-bef5-d6bff52042e4",
            ex_ipv6=True, ex_monitoring=True, ex_backups=False)
    body = traffic.calls[0].json()
    assert body == {
        "name": "web-3", "size": "s-1vcpu-1gb", "image": 160232537, "region": "nyc3",
        "ssh_keys": [512001, "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"], "user_data": "#cloud-config\n",
        "tags": ["web"], "vpc_uuid": "5a4981aa-9653-4bd1-bef5-d6bff52042e4", "ipv6": True,
        "monitoring": True, "backups": False,
    }
    assert node.id == "401010" and node.name == "web-3"
    assert node.state is NodeState.PENDING
    assert node.public_ips == [] and node.private_ips == []
    assert node.extra["action_id"] == "2290011001"
    assert node.size is not None and node.size.price == 0.00893


def test_create_node_takes_ids_and_slugs_and_no_region() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets", "POST_v2_droplets.json", status=202)
        driver.create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64")
    assert traffic.calls[0].json() == {"name": "web-3", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"}


def test_create_node_legacy_answer_with_only_the_action() -> None:
    legacy = {"action": {"id": 39290099, "status": "in-progress", "type": "create",
                         "started_at": "2014-12-19T19:14:36Z", "completed_at": None,
                         "resource_id": 12345, "resource_type": "droplet", "region": "nyc3"}}
    driver = make_driver()
    with checked(responses_too=False) as (mock, _):
        add(mock, "POST", "/v2/droplets", legacy, status=202)
        node = driver.create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", "nyc3")
    assert (node.id, node.name, node.state) == ("12345", "web-3", NodeState.PENDING)
    assert node.extra["action_id"] == "39290099" and node.extra["region"] == "nyc3"


def test_create_node_ssh_key_auth_reuses_the_key_on_the_account() -> None:
    _, public = generate_key_pair("ed25519", comment="me@laptop")
    fingerprint = fingerprint_md5(public)
    known = fixture("GET_v2_account_keys_512001.json")
    known["ssh_key"].update(fingerprint=fingerprint, public_key=public)
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", f"/v2/account/keys/{fingerprint}", known)
        add(mock, "POST", "/v2/droplets", "POST_v2_droplets.json", status=202)
        driver.create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", "nyc3", auth=NodeAuthSSHKey(public))
    assert [(c.method, c.path) for c in traffic.calls] == [
        ("GET", f"/v2/account/keys/{fingerprint}"), ("POST", "/v2/droplets")]
    assert traffic.calls[1].json()["ssh_keys"] == [512001]


def test_create_node_ssh_key_auth_imports_a_missing_key() -> None:
    _, public = generate_key_pair("ed25519", comment="me@laptop")
    fingerprint = fingerprint_md5(public)
    created = fixture("POST_v2_account_keys.json")
    created["ssh_key"].update(fingerprint=fingerprint, public_key=public, name="me@laptop")
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", f"/v2/account/keys/{fingerprint}", "error_404.json", status=404)
        add(mock, "POST", "/v2/account/keys", created, status=201)
        add(mock, "POST", "/v2/droplets", "POST_v2_droplets.json", status=202)
        driver.create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", "nyc3", auth=NodeAuthSSHKey(public),
                           ex_ssh_keys=[512001])
    assert [(c.method, c.path) for c in traffic.calls] == [
        ("GET", f"/v2/account/keys/{fingerprint}"), ("POST", "/v2/account/keys"), ("POST", "/v2/droplets")]
    assert traffic.calls[1].json() == {"name": "me@laptop", "public_key": public}
    assert traffic.calls[2].json()["ssh_keys"] == [512001, 512003]


def test_create_node_import_race_falls_back_to_the_existing_key() -> None:
    _, public = generate_key_pair("ed25519", comment="")
    fingerprint = fingerprint_md5(public)
    known = fixture("GET_v2_account_keys_512001.json")
    known["ssh_key"].update(fingerprint=fingerprint, public_key=public)
    driver = make_driver()
    with checked() as (mock, traffic):
        mock.add("GET", f"https://api.digitalocean.com/v2/account/keys/{fingerprint}",
                 json=fixture("error_404.json"), status=404)
        add(mock, "POST", "/v2/account/keys",
            {"id": "unprocessable_entity", "message": "SSH Key is already in use on your account"}, status=422)
        mock.add("GET", f"https://api.digitalocean.com/v2/account/keys/{fingerprint}", json=known,
                 headers=RATE_HEADERS)
        add(mock, "POST", "/v2/droplets", "POST_v2_droplets.json", status=202)
        driver.create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", auth=NodeAuthSSHKey(public))
    assert traffic.calls[1].json()["name"].startswith("cloudkit-")  # no comment: a generated label
    assert traffic.calls[-1].json()["ssh_keys"] == [512001]


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"name": "web_1"}, "hostname"),
    ({"name": "bad name"}, "hostname"),
    ({"name": ""}, "non-empty"),
    ({"name": "ends-"}, "hostname"),
    ({"name": "a" * 256}, "longer"),
    ({"size": ""}, "size"),
    ({"size": "s 1"}, "size"),
    ({"image": "ubuntu/../x"}, "image"),
    ({"image": None}, "image"),
    ({"location": "NYC 3"}, "region"),
    ({"ex_tags": ["ok", "not ok"]}, "tag"),
    ({"ex_tags": "web"}, "list"),
    ({"ex_ssh_keys": ["my-key"]}, "fingerprint"),
    ({"ex_vpc_uuid": "not-a-uuid"}, "UUID"),
    ({"ex_ipv6": "yes"}, "True or False"),
    ({"ex_user_data": "x" * (64 * 1024 + 1)}, "larger"),
    ({"auth": NodeAuthPassword("hunter2-secret")}, "root passwords"),
    ({"auth": NodeAuthSSHKey("-----BEGIN OPENSSH PRIVATE KEY----- abc")}, "private key"),
    ({"auth": NodeAuthSSHKey("ssh-ed25519 not-base64!")}, "base64"),
    ({"auth": "root:pw"}, "NodeAuthSSHKey"),
])
def test_create_node_bad_input_refused_before_any_request(kwargs: dict[str, Any], text: str) -> None:
    args: dict[str, Any] = {"name": "web-3", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64",
                            "location": "nyc3"}
    args.update(kwargs)
    driver = make_driver()
    with checked() as (_, traffic), pytest.raises(ValidationError) as info:
        driver.create_node(**args)
    assert traffic.calls == []
    assert text in str(info.value)
    assert "hunter2-secret" not in str(info.value)


def test_create_node_rejected_by_the_api_carries_its_message() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "POST", "/v2/droplets", "error_422.json", status=422)
        with pytest.raises(ValidationError) as info:
            driver.create_node("web-3", "s-1vcpu-1gb", "no-such-image", "nyc3")
    assert info.value.status == 422
    assert info.value.message == "You specified an invalid image for Droplet creation."


def test_create_node_is_not_repeated_after_a_server_error() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets", "error_500.json", status=500)
        with pytest.raises(Exception, match="Unexpected server-side error"):
            driver.create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", "nyc3")
    assert len(traffic.calls) == 1


# -- destroy ----------------------------------------------------------------------------------


def test_destroy_node_by_node_and_by_id() -> None:
    driver = make_driver()
    node = driver._to_node(fixture("GET_v2_droplets_401001.json")["droplet"])
    with checked() as (mock, traffic):
        add(mock, "DELETE", "/v2/droplets/401001", None, status=204)
        add(mock, "DELETE", "/v2/droplets/401004", None, status=204)
        assert driver.destroy_node(node) is True
        assert driver.destroy_node("401004") is True
    assert [(c.method, c.path, c.body) for c in traffic.calls] == [
        ("DELETE", "/v2/droplets/401001", None), ("DELETE", "/v2/droplets/401004", None)]


def test_destroy_missing_droplet_is_not_found() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "DELETE", "/v2/droplets/5", "error_404.json", status=404)
        with pytest.raises(NotFoundError):
            driver.destroy_node("5")


def test_create_node_connection_dropped_after_sending_is_not_repeated_and_says_what_to_check() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        mock.add("POST", "https://api.digitalocean.com/v2/droplets",
                 body=requests.exceptions.ConnectionError("Connection reset by peer"))
        with pytest.raises(OutcomeUnknownError) as info:
            driver.create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", "nyc3")
    assert len(traffic.calls) == 1
    assert "web-3" in str(info.value) and info.value.hint is not None and "web-3" in info.value.hint
