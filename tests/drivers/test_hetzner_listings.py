"""The Hetzner Cloud driver on fixture bodies: multi-page listings with the right ids and names,
the model's units, labels as tags, errors and the requests it sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from cloudkit import NodeState
from cloudkit.drivers.hetzner import HetznerNodeDriver
from cloudkit.errors import InvalidCredsError, MalformedResponseError, RateLimitError, ValidationError
from cloudkit.models import NodeAuthPassword

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hetzner"
API = "https://api.hetzner.cloud/v1"
TOKEN = "hz-TEST-token-4b1d0c"


def fx(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def driver(**kwargs: Any) -> HetznerNodeDriver:
    return HetznerNodeDriver(TOKEN, max_retries=0, **kwargs)


@responses.activate
def test_list_nodes_follows_meta_pagination() -> None:
    for page in (1, 2):
        responses.get(f"{API}/servers", json=fx(f"GET_servers_page{page}.json"),
                      match=[matchers.query_param_matcher({"page": str(page), "per_page": "2"})])
    nodes = driver(page_size=2).list_nodes()
    assert [(n.id, n.name) for n in nodes] == [("42000101", "web-1"), ("42000102", "web-2"), ("42000103", "db-1")]
    assert [n.state for n in nodes] == [NodeState.RUNNING, NodeState.STOPPED, NodeState.PENDING]
    web = nodes[0]
    assert web.public_ips == ["203.0.113.11"] and web.private_ips == ["10.0.0.2"]
    assert sorted(web.tags) == ["env=prod", "web"]
    assert web.size is not None and (web.size.id, web.size.ram, web.size.disk, web.size.vcpus) == ("104", 4096, 40, 2)
    assert web.size.price == pytest.approx(0.006) and web.size.extra["currency"] == "EUR"
    assert web.image is not None and (web.image.id, web.image.name) == ("114690387", "debian-12")
    assert web.extra["location"] == "fsn1" and web.extra["datacenter"] == "fsn1-dc14"
    assert web.created_at is not None and web.created_at.year == 2024
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in responses.calls)


@responses.activate
def test_tag_is_a_label_selector() -> None:
    responses.get(f"{API}/servers", json=fx("GET_servers_label_web.json"),
                  match=[matchers.query_param_matcher({"label_selector": "web", "page": "1", "per_page": "50"})])
    assert [n.name for n in driver().list_nodes(tag="web")] == ["web-1", "web-2"]


@responses.activate
def test_sizes_prices_per_location_and_deprecation() -> None:
    for page in (1, 2):
        responses.get(f"{API}/server_types", json=fx(f"GET_server_types_page{page}.json"),
                      match=[matchers.query_param_matcher({"page": str(page), "per_page": "3"})])
    sizes = driver(page_size=3).list_sizes()
    assert [(s.id, s.name) for s in sizes] == [("1", "cx11"), ("22", "cpx11"), ("45", "cax11"), ("96", "ccx13"),
                                               ("104", "cx22")]
    old = sizes[0]
    assert old.extra["deprecated"] is True and old.extra["deprecation"]["unavailable_after"].startswith("2024-09")
    assert sizes[2].extra["architecture"] == "arm" and sizes[3].ram == 8192
    ash = driver(page_size=3).list_sizes("ash")
    assert [s.name for s in ash] == ["cpx11", "ccx13"] and ash[0].price == pytest.approx(0.0071)


@responses.activate
def test_images_locations_keys() -> None:
    responses.get(f"{API}/images", json=fx("GET_images.json"))
    responses.get(f"{API}/locations", json=fx("GET_locations.json"))
    responses.get(f"{API}/ssh_keys", json=fx("GET_ssh_keys.json"))
    d = driver()
    images = d.list_images()
    assert [i.id for i in images] == ["114690387", "114690389", "161547269", "67794396", "40093247", "187654321",
                                      "187654399"]
    assert {i.extra["type"] for i in images} == {"system", "app", "snapshot", "backup"}
    assert {i.extra["architecture"] for i in images} == {"x86", "arm"}
    assert images[5].name == "web base 2024-05"  # a snapshot has no name: its description stands in
    assert images[3].extra["deprecated"] == "2025-05-01T00:00:00Z"
    assert [(loc.id, loc.country) for loc in d.list_locations()] == [("fsn1", "DE"), ("hel1", "FI"), ("ash", "US")]
    [key] = d.list_key_pairs()
    fingerprint = fx("GET_ssh_keys.json")["ssh_keys"][0]["fingerprint"]
    assert (key.id, key.name, key.fingerprint) == ("2323901", "laptop", fingerprint)


@responses.activate
def test_create_sends_the_documented_body() -> None:
    responses.post(f"{API}/servers", json=fx("POST_servers.json"), status=201)
    node = driver().create_node("web-3", "cx22", "debian-12", "fsn1", ex_tags=["web"], ex_user_data="#cloud-config\n")
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {"name": "web-3", "server_type": "cx22", "image": "debian-12", "location": "fsn1",
                    "start_after_create": True, "labels": {"web": ""}, "user_data": "#cloud-config\n"}
    assert node.id == "42000201" and node.state == NodeState.PENDING
    assert node.extra["password"] == "Zq7mVb3kXw9pLr2T" and node.extra["action_id"] == 7000101
    with pytest.raises(ValidationError):
        driver().create_node("x", "cx22", "debian-12", auth=NodeAuthPassword("nope-nope-1"))


@responses.activate
def test_actions_and_destroy() -> None:
    for command in ("reboot", "poweron", "shutdown", "poweroff"):
        responses.post(f"{API}/servers/42000101/actions/{command}", json=fx("POST_servers_42000101_action.json"),
                       status=201)
    responses.post(f"{API}/servers/42000101/actions/rebuild", json=fx("POST_servers_42000101_rebuild.json"),
                   status=201)
    responses.delete(f"{API}/servers/42000101", json=fx("DELETE_servers_42000101.json"))
    responses.get(f"{API}/actions/7000201", json=fx("GET_actions_7000201.json"))
    d = driver()
    for call in (d.reboot_node, d.start_node, d.stop_node, d.ex_power_off_node, d.destroy_node):
        assert call("42000101") is True
    assert d.ex_rebuild_node("42000101", "debian-12") is None
    assert json.loads(responses.calls[5].request.body) == {"image": "debian-12"}
    assert d.ex_get_action(7000201)["status"] == "success"


@pytest.mark.parametrize(("status", "name", "error"), [
    (401, "error_401.json", InvalidCredsError), (400, "error_400_invalid_input.json", ValidationError),
    (429, "error_429.json", RateLimitError)])
@responses.activate
def test_error_bodies(status: int, name: str, error: type[Exception]) -> None:
    responses.get(f"{API}/servers", json=fx(name), status=status, headers={"RateLimit-Reset": "1"})
    with pytest.raises(error) as info:
        driver().list_nodes()
    assert fx(name)["error"]["message"] in str(info.value)
    assert TOKEN not in str(info.value)
    if status == 400:
        assert "Name must be a valid hostname" in str(info.value)


@responses.activate
def test_malformed_listing() -> None:
    responses.get(f"{API}/servers", json={"servers": [{"name": "no id"}], "meta": {}})
    with pytest.raises(MalformedResponseError):
        driver().list_nodes()
