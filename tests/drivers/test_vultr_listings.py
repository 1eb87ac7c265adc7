"""The Vultr driver on fixture bodies: cursor-paged listings with the right ids and names, the
state read from three fields, plans priced by the hour, errors and the requests it sends."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from cloudkit import NodeState
from cloudkit.drivers.vultr import VultrNodeDriver, node_state
from cloudkit.errors import InvalidCredsError, MalformedResponseError, NotFoundError, RateLimitError, ValidationError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vultr"
API = "https://api.vultr.com/v2"
TOKEN = "VULTRTESTKEY7F3A9C1E5B2D4F6A8C0E"


def fx(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def driver(**kwargs: Any) -> VultrNodeDriver:
    return VultrNodeDriver(TOKEN, max_retries=0, **kwargs)


@responses.activate
def test_list_nodes_follows_the_cursor_until_next_is_empty() -> None:
    cursor = fx("GET_instances_page1.json")["meta"]["links"]["next"]
    responses.get(f"{API}/instances", json=fx("GET_instances_page1.json"),
                  match=[matchers.query_param_matcher({"per_page": "500"})])
    responses.get(f"{API}/instances", json=fx("GET_instances_page2.json"),
                  match=[matchers.query_param_matcher({"per_page": "500", "cursor": cursor})])
    nodes = driver().list_nodes()
    assert len(responses.calls) == 2
    assert [n.name for n in nodes] == ["web-1", "web-2", "db-1", "cache-1"]
    assert nodes[0].id == "6e4f1b2a-3c5d-4e6f-8a9b-0c1d2e3f4a51"
    assert [n.state for n in nodes] == [NodeState.RUNNING, NodeState.STOPPED, NodeState.PENDING, NodeState.STARTING]
    assert nodes[0].public_ips == ["203.0.113.31"] and nodes[0].private_ips == ["10.1.96.3"]
    assert nodes[2].public_ips == []  # 0.0.0.0 while pending is no address
    assert nodes[0].tags == ["web", "prod"] and nodes[0].extra["plan"] == "vc2-1c-1gb"
    assert nodes[0].created_at is not None and nodes[0].created_at.year == 2024


@responses.activate
def test_tag_filter() -> None:
    responses.get(f"{API}/instances", json=fx("GET_instances_tag_web.json"),
                  match=[matchers.query_param_matcher({"per_page": "500", "tag": "web"})])
    assert [n.name for n in driver().list_nodes(tag="web")] == ["web-1", "web-2"]


@pytest.mark.parametrize(("fields", "state"), [
    (("pending", "running", "none"), NodeState.PENDING), (("active", "running", "ok"), NodeState.RUNNING),
    (("active", "running", "installingbooting"), NodeState.STARTING),
    (("active", "running", "locked"), NodeState.PENDING),
    (("active", "stopped", "ok"), NodeState.STOPPED), (("active", "stopped", "none"), NodeState.STOPPED),
    (("suspended", "stopped", "ok"), NodeState.SUSPENDED), (("resizing", "running", "ok"), NodeState.RECONFIGURING),
    (("closed", "running", "ok"), NodeState.UNKNOWN)])
def test_state_reads_three_fields(fields: tuple[str, str, str], state: NodeState) -> None:
    assert node_state(*fields) == state


@responses.activate
def test_catalogue() -> None:
    responses.get(f"{API}/plans", json=fx("GET_plans.json"))
    responses.get(f"{API}/os", json=fx("GET_os_page1.json"), match=[matchers.query_param_matcher({"per_page": "500"})])
    responses.get(f"{API}/os", json=fx("GET_os_page2.json"),
                  match=[matchers.query_param_matcher({"per_page": "500", "cursor": "bmV4dF9fMjA3Ng=="})])
    responses.get(f"{API}/applications", json=fx("GET_applications.json"))
    responses.get(f"{API}/regions", json=fx("GET_regions.json"))
    responses.get(f"{API}/ssh-keys", json=fx("GET_ssh-keys.json"))
    d = driver()
    sizes = d.list_sizes()
    assert [s.id for s in sizes] == ["vc2-1c-0.5gb", "vc2-1c-1gb", "vc2-2c-4gb", "vhf-2c-2gb", "vcg-a16-2c-16g-4vram"]
    assert sizes[0].price == pytest.approx(0.004)  # the API's own hourly cost
    assert sizes[1].price == pytest.approx(5 / 672, abs=1e-5) and sizes[1].extra["monthly_cost"] == 5
    assert (sizes[2].ram, sizes[2].disk, sizes[2].vcpus, sizes[2].bandwidth) == (4096, 80, 2, 3072)
    assert [s.id for s in d.list_sizes("fra")] == ["vc2-1c-1gb", "vc2-2c-4gb"]
    images = d.list_images()
    assert [(i.id, i.name) for i in images][:2] == [("2136", "Debian 12 x64 (bookworm)"),
                                                    ("2284", "Ubuntu 24.04 LTS x64")]
    assert [i.id for i in images][4:] == ["159", "164", "186", "app:17", "app:1028"]
    assert images[-1].name == "OpenLiteSpeed WordPress" and images[-1].extra["app_id"] == 1028
    assert [(loc.id, loc.name, loc.country) for loc in d.list_locations()][:2] == [
        ("ewr", "New Jersey", "US"), ("ams", "Amsterdam", "NL")]
    [key] = d.list_key_pairs()
    assert (key.id, key.name) == ("3b8066a7-b438-455a-9688-44afc9a3597f", "laptop") and key.fingerprint


@responses.activate
def test_create_sends_the_documented_body() -> None:
    responses.post(f"{API}/instances", json=fx("POST_instances.json"), status=202)
    node = driver().create_node("web-3", "vc2-1c-1gb", "2136", "ewr", ex_tags=["web"], ex_user_data="#cloud-config\n",
                                ex_ssh_key_ids=["3b8066a7-b438-455a-9688-44afc9a3597f"])
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {"region": "ewr", "plan": "vc2-1c-1gb", "label": "web-3", "os_id": 2136,
                    "sshkey_id": ["3b8066a7-b438-455a-9688-44afc9a3597f"], "tags": ["web"],
                    "user_data": base64.b64encode(b"#cloud-config\n").decode()}
    assert node.state == NodeState.PENDING and node.extra["password"] == "v!7Qx2[mRb9sLp"
    driver().create_node("wp-1", "vc2-1c-1gb", "app:1028", "ewr")
    assert json.loads(responses.calls[1].request.body)["app_id"] == 1028
    with pytest.raises(ValidationError):
        driver().create_node("x", "vc2-1c-1gb", "2136")  # no region


@responses.activate
def test_actions() -> None:
    node_id = "6e4f1b2a-3c5d-4e6f-8a9b-0c1d2e3f4a51"
    for action in ("reboot", "start", "halt"):
        responses.post(f"{API}/instances/{node_id}/{action}", status=204)
    responses.post(f"{API}/instances/{node_id}/reinstall", json=fx("POST_instances_6e4f1b2a_reinstall.json"),
                   status=202)
    responses.delete(f"{API}/instances/{node_id}", status=204)
    d = driver()
    for call in (d.reboot_node, d.start_node, d.stop_node, d.destroy_node):
        assert call(node_id) is True
    assert d.ex_reinstall_node(node_id).state == NodeState.STARTING
    assert [c.request.url.rsplit("/", 1)[-1] for c in responses.calls] == ["reboot", "start", "halt", node_id,
                                                                          "reinstall"]


@pytest.mark.parametrize(("status", "name", "error"), [
    (401, "error_401.json", InvalidCredsError), (400, "error_400.json", ValidationError),
    (404, "error_404.json", NotFoundError), (429, "error_429.json", RateLimitError)])
@responses.activate
def test_error_bodies(status: int, name: str, error: type[Exception]) -> None:
    responses.get(f"{API}/account", json=fx(name), status=status, headers={"Retry-After": "1"})
    with pytest.raises(error) as info:
        driver().verify_credentials()
    assert fx(name)["error"] in str(info.value) and TOKEN not in str(info.value)
    if status == 429:
        assert getattr(info.value, "retry_after", None) == pytest.approx(1.0)


@responses.activate
def test_verify_and_malformed() -> None:
    responses.get(f"{API}/account", json=fx("GET_account.json"))
    assert driver().verify_credentials() is True
    responses.get(f"{API}/instances", json={"instances": [{"label": "no id"}], "meta": {}})
    with pytest.raises(MalformedResponseError):
        driver().list_nodes()
