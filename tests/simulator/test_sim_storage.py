"""Volumes, attachments, snapshots, images from servers and reserved IPs / addresses on the
DigitalOcean and Linode simulators, driven through the drivers.

Every request the drivers send AND every answer the simulator gives (errors included) is
validated against the providers' official descriptions: the compute and storage cuts merged,
as ``tests/drivers/_storage_support.py`` does for the driver tests, with closed response
schemas (the simulator may not invent fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from _sim_support import Api, filter_header
from drivers._storage_support import merged_spec

from cloudkit.driver import NodeDriver
from cloudkit.errors import NotFoundError, ProviderError, ValidationError
from cloudkit.models import StorageVolumeState
from cloudkit.testing.openapi import OpenAPIValidator, TrafficRecorder, check_requests
from cloudkit.testing.simulator import Simulator

ACTION_SECONDS = 0.05


def _validator(provider: str, sim: Simulator) -> OpenAPIValidator:
    return OpenAPIValidator(merged_spec(provider), sim.base_url, open_responses=False)


@contextmanager
def _errors_checked(validator: OpenAPIValidator) -> Iterator[list[str]]:
    """Validate every non-2xx answer too (``check_requests`` checks the 2xx ones)."""
    problems: list[str] = []
    original = requests.Session.send

    def send(session: requests.Session, request: Any, **kwargs: Any) -> requests.Response:
        resp = original(session, request, **kwargs)
        if resp.status_code >= 300:
            found = validator.response_problems(str(request.method), str(request.url), resp.status_code,
                                                dict(resp.headers), resp.content)
            problems.extend(f"{request.method} {request.url} -> {resp.status_code}: {p}" for p in found)
        return resp

    requests.Session.send = send  # type: ignore[method-assign]  # every session of the test, restored below
    try:
        yield problems
    finally:
        requests.Session.send = original  # type: ignore[method-assign]  # put back as it was
    assert problems == []


@contextmanager
def _unchecked(traffic: TrafficRecorder) -> Iterator[None]:
    traffic.active = False
    try:
        yield
    finally:
        traffic.active = True


def _fast(driver: NodeDriver) -> NodeDriver:
    for name in ("action_poll_interval", "storage_poll_interval"):
        if hasattr(driver, name):
            setattr(driver, name, 0.02)
    return driver


def _checked(provider: str, sim: Simulator) -> Iterator[tuple[NodeDriver, TrafficRecorder]]:
    validator = _validator(provider, sim)
    driver = _fast(sim.driver(max_retries=0))
    with _errors_checked(validator), check_requests(validator, responses_too=True) as traffic:
        yield driver, traffic
    assert sim.server_errors == []


@pytest.fixture
def do_flow() -> Iterator[tuple[Simulator, NodeDriver, TrafficRecorder]]:
    with Simulator("digitalocean", boot_seconds=0.02, action_seconds=ACTION_SECONDS) as sim:
        sim.seed_nodes(2)
        sim.seed_nodes(1, region="sfo3", name_prefix="far")
        for driver, traffic in _checked("digitalocean", sim):
            yield sim, driver, traffic


@pytest.fixture
def linode_flow() -> Iterator[tuple[Simulator, NodeDriver, TrafficRecorder]]:
    with Simulator("linode", boot_seconds=0.02, action_seconds=ACTION_SECONDS) as sim:
        sim.seed_nodes(2)
        sim.seed_nodes(1, region="eu-west", name_prefix="far")
        for driver, traffic in _checked("linode", sim):
            yield sim, driver, traffic


def _nodes(driver: NodeDriver) -> tuple[Any, Any, Any]:
    nodes = sorted(driver.list_nodes(), key=lambda n: n.name)
    far = next(n for n in nodes if n.name.startswith("far"))
    near = [n for n in nodes if not n.name.startswith("far")]
    return near[0], near[1], far


def _sent_since(sim: Simulator, count: int) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sim.requests[count:]]


# -- DigitalOcean ------------------------------------------------------------------------------


def test_digitalocean_volume_flow(do_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    sim, driver, traffic = do_flow
    d: Any = driver
    node, other, far = _nodes(d)
    volume = d.create_volume(10, "data-1", location="nyc3", ex_filesystem_type="ext4", ex_tags=["db"])
    assert volume.state is StorageVolumeState.AVAILABLE and volume.extra["region"] == "nyc3"
    assert volume.extra["droplet_ids"] == []

    # a cross-region attach is refused with no request sent
    before = len(sim.requests)
    with pytest.raises(ValidationError, match=r"region nyc3.*sfo3"):
        d.attach_volume(far, volume)
    assert _sent_since(sim, before) == []

    assert d.attach_volume(node, volume) is True
    # list_volumes shows the attachment as soon as attach returns
    [listed] = d.list_volumes()
    assert listed.extra["droplet_ids"] == [node.id] and listed.state is StorageVolumeState.INUSE
    assert d.get_node(node.id).extra["volume_ids"] == [volume.id]

    # attached elsewhere: refused (the driver reads the volume once, sends no action)
    before = len(sim.requests)
    with pytest.raises(ValidationError, match=f"attached to droplet {node.id}"):
        d.attach_volume(other, volume.id)
    assert all(method == "GET" for method, _ in _sent_since(sim, before))
    # ... and the API refuses it too when asked directly
    api = Api(sim)
    resp = api.post(f"/v2/volumes/{volume.id}/actions", json={"type": "attach", "droplet_id": int(other.id)})
    assert resp.status_code == 422 and "already attached" in resp.json()["message"]
    _validator("digitalocean", sim).validate_response("POST", resp.url, 422, dict(resp.headers), resp.content)

    # destroying an attached volume raises unless ex_detach=True
    with pytest.raises(ValidationError, match="ex_detach=True"):
        d.destroy_volume(volume)

    assert d.detach_volume(volume) is True
    [listed] = d.list_volumes()
    assert listed.extra["droplet_ids"] == [] and listed.state is StorageVolumeState.AVAILABLE

    snapshot = d.create_volume_snapshot(volume, "data-1-nightly")
    assert [s.id for s in d.list_volume_snapshots(volume)] == [snapshot.id]
    restored = d.create_volume(20, "data-2", snapshot=snapshot)
    assert restored.extra["region"] == "nyc3"

    assert d.ex_resize_volume(volume, 50) is True
    assert {v.id: v.size for v in d.list_volumes()}[volume.id] == 50
    with pytest.raises(ValidationError, match="only grow"):
        d.ex_resize_volume(volume, 40)

    assert d.destroy_volume_snapshot(snapshot) is True
    assert d.list_volume_snapshots(volume) == []
    d.attach_volume(node, volume)
    assert d.destroy_volume(volume, ex_detach=True) is True
    assert d.destroy_volume(restored) is True
    assert d.list_volumes() == []
    assert traffic.calls, "the traffic was checked"


def test_digitalocean_images_from_droplets(do_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    _sim, driver, _ = do_flow
    d: Any = driver
    node, _, _ = _nodes(d)
    pending = d.create_image(node, "web-golden", ex_wait=False)
    assert pending.id == "" and pending.extra["action_id"]
    assert "web-golden" not in [i.name for i in d.list_images()]  # not there until the action completes
    d.ex_wait_for_action(pending.extra["action_id"], timeout=10)
    image = d.create_image(node, "web-golden-2", "the golden image")
    assert image.extra.get("description") == "the golden image" or image.name == "web-golden-2"
    own = {i.name: i.id for i in d.list_images()}
    assert own["web-golden"] and own["web-golden-2"] == image.id  # list_images includes own images
    assert d.delete_image(image) is True
    assert "web-golden-2" not in [i.name for i in d.list_images()]
    with pytest.raises(NotFoundError):
        d.delete_image(image.id)


def test_digitalocean_reserved_ips(do_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    _sim, driver, _ = do_flow
    d: Any = driver
    node, _, far = _nodes(d)
    ip = d.ex_create_floating_ip("nyc3")
    assert ip.node_id is None and ip.extra["region"] == "nyc3"
    assert d.ex_attach_floating_ip_to_node(node, ip) is True
    assert d.ex_get_floating_ip(ip.ip_address).node_id == node.id
    with pytest.raises(ProviderError, match="same region"):
        d.ex_attach_floating_ip_to_node(far, ip)
    assert d.ex_detach_floating_ip_from_node(node, ip) is True
    assert [x.node_id for x in d.ex_list_floating_ips()] == [None]
    for _ in range(2):
        d.ex_create_floating_ip("nyc3")
    with pytest.raises(ProviderError, match="limit"):
        d.ex_create_floating_ip("nyc3")  # the account's floating_ip_limit is 3
    assert d.ex_delete_floating_ip(ip) is True
    with pytest.raises(NotFoundError):
        d.ex_get_floating_ip(ip.ip_address)


def test_digitalocean_storage_faults_and_errors(do_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    sim, driver, _ = do_flow
    d: Any = driver
    with pytest.raises(ValidationError):
        d.create_volume(20000, "too-big", location="nyc3")  # refused by the driver
    api = Api(sim)
    validator = _validator("digitalocean", sim)
    for body, status in (({"size_gigabytes": 20000, "name": "big", "region": "nyc3"}, 422),
                         ({"size_gigabytes": 10, "name": "x", "region": "nyc2"}, 422)):
        resp = api.post("/v2/volumes", json=body)
        assert resp.status_code == status
        validator.validate_response("POST", resp.url, status, dict(resp.headers), resp.content)
    sim.faults.queue("503")
    with pytest.raises(ProviderError):
        d.list_volumes()
    assert d.list_volumes() == []
    resp = api.get("/v2/volumes/7724db7c-e098-11e5-b522-000f53304e51")
    assert resp.status_code == 404
    validator.validate_response("GET", resp.url, 404, dict(resp.headers), resp.content)


def test_digitalocean_volume_listing_pages(do_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    sim, driver, _ = do_flow
    d: Any = driver
    made = {d.create_volume(1, f"v-{i}", location="nyc3").id for i in range(5)}
    api = Api(sim)
    page = api.json("GET", "/v2/volumes", params={"per_page": 2, "page": 3})
    assert len(page["volumes"]) == 1 and page["meta"]["total"] == 5
    assert {v.id for v in d.list_volumes()} == made
    assert len(api.json("GET", "/v2/volumes", params={"name": "v-1", "region": "nyc3"})["volumes"]) == 1


def test_digitalocean_attach_progress_over_time() -> None:
    """The attach action is in progress, then completed after action_seconds."""
    with Simulator("digitalocean", boot_seconds=0.02, action_seconds=0.3) as sim:
        sim.seed_nodes(1)
        api = Api(sim)
        volume = api.json("POST", "/v2/volumes", expect=201,
                          json={"size_gigabytes": 10, "name": "slow", "region": "nyc3"})["volume"]
        droplet = int(sim.api.node_ids()[0])
        action = api.json("POST", "/v2/volumes/actions", expect=202,
                          json={"type": "attach", "volume_name": "slow", "region": "nyc3",
                                "droplet_id": droplet})["action"]
        assert action["status"] == "in-progress"
        assert api.json("GET", f"/v2/volumes/{volume['id']}")["volume"]["droplet_ids"] == []
        resp = api.post(f"/v2/volumes/{volume['id']}/actions", json={"type": "detach", "droplet_id": droplet})
        assert resp.status_code == 422  # one action at a time
        from _sim_support import wait_for

        wait_for(lambda: api.json("GET", f"/v2/actions/{action['id']}")["action"]["status"] == "completed")
        assert api.json("GET", f"/v2/volumes/{volume['id']}")["volume"]["droplet_ids"] == [droplet]
        assert [a["id"] for a in api.json("GET", f"/v2/volumes/{volume['id']}/actions")["actions"]] == [action["id"]]
        assert sim.server_errors == []


# -- Linode ------------------------------------------------------------------------------------


def test_linode_volume_flow(linode_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    sim, driver, traffic = linode_flow
    d: Any = driver
    node, other, far = _nodes(d)
    volume = d.create_volume(10, "data-1", location="us-east", tags=["db-1"])
    assert volume.extra["region"] == "us-east" and volume.extra["linode_id"] is None

    before = len(sim.requests)
    with pytest.raises(ValidationError, match=r"region us-east.*eu-west"):
        d.attach_volume(far, volume)
    assert _sent_since(sim, before) == []

    assert d.attach_volume(node, volume) is True
    [listed] = d.list_volumes()
    assert listed.extra["linode_id"] == node.id and listed.state is StorageVolumeState.INUSE

    before = len(sim.requests)
    with pytest.raises(ValidationError, match=f"attached to Linode {node.id}"):
        d.attach_volume(other, volume.id)
    assert all(method == "GET" for method, _ in _sent_since(sim, before))
    resp = Api(sim).post(f"/v4/volumes/{volume.id}/attach", json={"linode_id": int(other.id)})
    assert resp.status_code == 400 and "already attached" in resp.text
    _validator("linode", sim).validate_response("POST", resp.url, 400, dict(resp.headers), resp.content)

    with pytest.raises(ValidationError, match="ex_detach=True"):
        d.destroy_volume(volume)
    assert d.detach_volume(volume) is True
    [listed] = d.list_volumes()
    assert listed.extra["linode_id"] is None and listed.state is StorageVolumeState.AVAILABLE

    with pytest.raises(NotImplementedError):
        d.create_volume_snapshot(volume)  # Linode has no volume snapshots
    assert d.ex_resize_volume(volume, 30) is True
    assert d.list_volumes()[0].size == 30
    clone = d.ex_clone_volume(volume, "data-2")
    assert clone.size == 30 and clone.state is StorageVolumeState.AVAILABLE

    events = Api(sim).json("GET", "/v4/account/events",
                           headers=filter_header({"entity.id": int(volume.id), "entity.type": "volume"}))["data"]
    assert {"volume_attach", "volume_detach", "volume_resize", "volume_create"} <= {e["action"] for e in events}
    assert all(e["status"] == "finished" for e in events)

    d.attach_volume(node, volume)
    assert d.destroy_volume(volume, ex_detach=True) is True
    assert d.destroy_volume(clone) is True
    assert d.list_volumes() == []
    assert traffic.calls


def test_linode_images_from_disks(linode_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    _sim, driver, _ = linode_flow
    d: Any = driver
    node, _, _ = _nodes(d)
    pending = d.create_image(node, "web-golden", ex_wait=False)
    assert pending.id.startswith("private/") and pending.extra["status"] == "creating"
    image = d.create_image(node, "web-golden-2", "the golden image")
    assert image.extra["status"] == "available"
    own = {i.id for i in d.list_images()}
    assert {pending.id, image.id} <= own  # list_images includes the account's own images
    assert d.delete_image(image) is True
    assert image.id not in {i.id for i in d.list_images()}
    with pytest.raises(NotFoundError):
        d.delete_image(image.id)


def test_linode_addresses(linode_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    sim, driver, _ = linode_flow
    d: Any = driver
    node, other, far = _nodes(d)
    address = d.ex_allocate_private_address(node)
    assert address.public is False and address.extra["node_id"] == node.id
    with pytest.raises(ValidationError, match="already has a private address"):
        d.ex_allocate_private_address(d.get_node(node.id))
    assert address.inet in [a.inet for a in d.ex_list_node_addresses(node)]
    assert d.ex_share_address(other, [address]) is True
    shared = Api(sim).json("GET", f"/v4/linode/instances/{other.id}/ips")["ipv4"]["shared"]
    assert [s["address"] for s in shared] == [address.inet]
    with pytest.raises(ProviderError, match="only addresses in eu-west"):
        d.ex_share_address(far, [address])
    assert address.inet in {a.inet for a in d.ex_list_addresses()}


def test_linode_volume_errors_and_faults(linode_flow: tuple[Simulator, NodeDriver, TrafficRecorder]) -> None:
    sim, driver, traffic = linode_flow
    d: Any = driver
    api = Api(sim)
    validator = _validator("linode", sim)
    for body in ({"label": "big", "size": 20000, "region": "us-east"}, {"label": "x--y", "region": "us-east"},
                 {"label": "noregion"}):
        with _unchecked(traffic):  # requests off the description on purpose; the answers are checked
            resp = api.post("/v4/volumes", json=body)
        assert resp.status_code == 400
        validator.validate_response("POST", resp.url, 400, dict(resp.headers), resp.content)
    sim.faults.queue("429")
    with pytest.raises(ProviderError):
        d.list_volumes()
    assert d.list_volumes() == []
    with pytest.raises(NotFoundError):
        d.ex_get_volume("123")


def test_linode_attach_event_progress_over_time() -> None:
    with Simulator("linode", boot_seconds=0.02, action_seconds=0.3) as sim:
        sim.seed_nodes(1)
        api = Api(sim)
        linode_id = int(sim.api.node_ids()[0])
        volume = api.json("POST", "/v4/volumes", json={"label": "slow", "size": 10, "region": "us-east"})
        assert volume["status"] == "creating"
        api.json("POST", f"/v4/volumes/{volume['id']}/attach", json={"linode_id": linode_id})
        flt = filter_header({"entity.id": volume["id"], "action": "volume_attach"})
        [event] = api.json("GET", "/v4/account/events", headers=flt)["data"]
        assert event["status"] == "started"
        from _sim_support import wait_for

        wait_for(lambda: api.json("GET", "/v4/account/events", headers=flt)["data"][0]["status"] == "finished")
        assert api.json("GET", f"/v4/volumes/{volume['id']}")["status"] == "active"
        assert sim.server_errors == []
