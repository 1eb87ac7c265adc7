"""The cloudkit drivers against the simulator: full round trips, tags, credentials, faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from _sim_support import ED25519

from cloudkit import (
    ForbiddenError,
    InvalidCredsError,
    NodeAuthSSHKey,
    NodeState,
    OutcomeUnknownError,
)
from cloudkit.testing.simulator import Simulator

PROVIDERS = ["digitalocean", "linode", "hostvirtual", "nephoscale"]
NAMES = {"digitalocean": "web-1", "linode": "web-1", "hostvirtual": "web1.example.com", "nephoscale": "web-1"}
CREATE_PATHS = {"digitalocean": "/v2/droplets", "linode": "/v4/linode/instances",
                "hostvirtual": "/cloud/server/build*", "nephoscale": "/server/cloud/"}


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    with Simulator(request.param, boot_seconds=0.05, action_seconds=0.05) as simulator:
        yield simulator
        assert simulator.server_errors == []


def test_round_trip_create_wait_act_destroy(sim: Simulator) -> None:
    driver = sim.driver()
    assert driver.verify_credentials() is True
    sizes, images, locations = driver.list_sizes(), driver.list_images(), driver.list_locations()
    assert sizes and images and locations
    extra = {"ex_poll_interval": 0.05} if sim.provider == "nephoscale" else {}
    node = driver.create_node(NAMES[sim.provider], sizes[0], images[0], locations[0], auth=NodeAuthSSHKey(ED25519),
                              **extra)
    assert sim.node_count() == 1
    (running, ips), = driver.wait_until_running([node], wait_period=0.05, timeout=10)
    assert running.state is NodeState.RUNNING and "127.0.0.1" in ips
    assert [n.id for n in driver.list_nodes()] == [running.id]
    assert driver.reboot_node(running)
    for state, action in ((NodeState.STOPPED, driver.stop_node), (NodeState.RUNNING, driver.start_node)):
        time.sleep(0.12)  # let the previous action finish (DigitalOcean refuses a second one meanwhile)
        action(driver.get_node(running.id))
        _wait_state(driver, running.id, state)
    time.sleep(0.12)
    driver.destroy_node(driver.get_node(running.id))
    assert sim.node_count() == 0


def _wait_state(driver: object, node_id: str, state: NodeState) -> None:
    from _sim_support import wait_for

    wait_for(lambda: driver.get_node(node_id).state is state, timeout=10)  # type: ignore[attr-defined]


def test_key_pairs(sim: Simulator) -> None:
    driver = sim.driver()
    key = driver.import_key_pair_from_string("laptop", ED25519)
    assert key.name == "laptop"
    assert "laptop" in [k.name for k in driver.list_key_pairs()]
    assert driver.get_key_pair("laptop").public_key.split()[:2] == ED25519.split()[:2]
    assert driver.delete_key_pair(key)
    assert "laptop" not in [k.name for k in driver.list_key_pairs()]


def test_bad_credentials_are_invalid_creds(sim: Simulator) -> None:
    _key, secret = sim.credentials
    cls = type(sim.driver())
    bad = cls("wrong-user", "wrong", base_url=sim.base_url) if secret else cls("wrong-token", base_url=sim.base_url)
    with pytest.raises(InvalidCredsError):
        bad.verify_credentials()


@pytest.mark.parametrize("provider", ["digitalocean", "linode"])
def test_unscoped_token_is_forbidden(provider: str) -> None:
    with Simulator(provider) as sim:
        sim.add_token("limited-token", "none")
        driver = type(sim.driver())("limited-token", base_url=sim.base_url)
        with pytest.raises(ForbiddenError):
            driver.verify_credentials()


def test_create_dropped_after_receipt_makes_exactly_one_server(sim: Simulator) -> None:
    driver = sim.driver(max_retries=2)
    size, image, location = driver.list_sizes()[0], driver.list_images()[0], driver.list_locations()[0]
    sim.faults.queue("drop_after", method="POST", path=CREATE_PATHS[sim.provider])
    # Every driver reports that the create may have happened, and it did, once.
    with pytest.raises(OutcomeUnknownError) as err:
        driver.create_node(NAMES[sim.provider], size, image, location, auth=NodeAuthSSHKey(ED25519))
    assert NAMES[sim.provider] in str(err.value)
    assert sim.node_count() == 1
    creates = [r for r in sim.requests if r.method == "POST" and r.fault == "drop_after"]
    assert len(creates) == 1


def test_idempotent_reads_survive_a_503_burst(sim: Simulator) -> None:
    sim.seed_nodes(3)
    driver = sim.driver()
    sim.reset_requests()
    sim.faults.queue("503", method="GET")
    assert len(driver.list_nodes()) == 3
    assert [r.status for r in sim.requests][:2] == [503, 200]


@pytest.mark.parametrize("provider", ["digitalocean", "linode"])
def test_tags_filter_on_the_server_and_tag_untag(provider: str) -> None:
    with Simulator(provider, boot_seconds=0) as sim:
        tagged = sim.seed_nodes(3, tag="web")
        others = sim.seed_nodes(4)
        driver = sim.driver()
        sim.reset_requests()
        found = driver.list_nodes(tag="web")
        assert sorted(n.id for n in found) == sorted(tagged) and all(n.tags == ["web"] for n in found)
        listing = sim.requests[0]
        if provider == "digitalocean":
            assert listing.query["tag_name"] == "web"
        else:
            assert json.loads(listing.headers["x-filter"]) == {"tags": "web"}
        driver.ex_create_tag("blue")  # type: ignore[attr-defined]
        assert driver.ex_tag_node(others[0], "blue")  # type: ignore[attr-defined]
        assert [n.id for n in driver.list_nodes(tag="blue")] == [others[0]]
        assert driver.ex_untag_node(others[0], "blue")  # type: ignore[attr-defined]
        assert driver.list_nodes(tag="blue") == []
