"""Issue 15, item 1: a stale Node is never refused. libcloud-style scripts keep using the object
``create_node`` (or an old listing) returned; every refusal is decided on the state the API
reports at the time of the call, on every provider's simulator."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from _ask_support import PROVIDERS

from cloudkit import Node, NodeAuthSSHKey, NodeState
from cloudkit.driver import NodeDriver
from cloudkit.errors import ActionNotAllowedError, NotFoundError
from cloudkit.testing.simulator import Simulator

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID4brM3lNIB7nKMiFUxd0sFH49rYwWJHJsYxuJcFIQQu fresh@test"
NAMES = {"digitalocean": "web-1", "linode": "web-1", "hostvirtual": "web1.example.com", "nephoscale": "web-1"}


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    with Simulator(request.param, boot_seconds=0.05, action_seconds=0.05) as simulator:
        yield simulator
        assert simulator.server_errors == []


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the simulator did not get there in time"
        time.sleep(0.03)


def _settled(driver: NodeDriver, node_id: str, state: NodeState) -> Callable[[], bool]:
    def check() -> bool:
        fresh = driver.get_node(node_id)
        return fresh.state is state and fresh.extra.get("locked") is not True

    return check


def _create(sim: Simulator, driver: NodeDriver) -> Node:
    extra = {"ex_poll_interval": 0.05} if sim.provider == "nephoscale" else {}
    return driver.create_node(NAMES[sim.provider], driver.list_sizes()[0], driver.list_images()[0],
                              driver.list_locations()[0], auth=NodeAuthSSHKey(ED25519), **extra)


def _non_get(sim: Simulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sim.requests if r.method != "GET"]


def test_the_libcloud_script_create_wait_reboot_stop_start_with_the_original_object(sim: Simulator) -> None:
    driver = sim.driver()
    node = _create(sim, driver)
    driver.wait_until_running([node], wait_period=0.05, timeout=10)
    # wait_until_running refreshed the object the script holds
    assert node.state is NodeState.RUNNING and "127.0.0.1" in node.public_ips
    _until(_settled(driver, node.id, NodeState.RUNNING))
    assert driver.reboot_node(node) is True
    _until(_settled(driver, node.id, NodeState.RUNNING))
    assert node.reboot() is True  # libcloud's Node.reboot() on the same object
    _until(_settled(driver, node.id, NodeState.RUNNING))
    assert driver.stop_node(node) is True
    _until(_settled(driver, node.id, NodeState.STOPPED))
    # the object still says running (nothing refreshed it): start is decided on what the API says
    assert node.state is NodeState.RUNNING
    sim.reset_requests()
    assert driver.start_node(node) is True
    assert len(_non_get(sim)) == 1, "the start request was not sent exactly once"
    assert node.state is NodeState.STOPPED  # refreshed in place by the check
    _until(_settled(driver, node.id, NodeState.RUNNING))
    assert driver.destroy_node(node) is True


def test_an_object_from_an_old_listing_is_checked_against_the_api(sim: Simulator) -> None:
    sim.seed_nodes(1)
    driver = sim.driver()
    [listed] = driver.list_nodes()
    assert listed.state is NodeState.RUNNING
    stopped = next(s for s, state in driver.NODE_STATE_MAP.items() if state is NodeState.STOPPED)
    sim.set_node_status(listed.id, stopped)  # stopped behind the script's back
    sim.reset_requests()
    # the old object says running, which forbids start: the API is asked, says stopped, and
    # the start is sent
    assert driver.start_node(listed) is True
    assert len(_non_get(sim)) == 1
    assert listed.state is NodeState.STOPPED  # the caller's object shows what the API said
    _until(_settled(driver, listed.id, NodeState.RUNNING))
    # now the object says stopped (which forbids reboot) and the API says running: sent
    assert listed.state is NodeState.STOPPED
    sim.reset_requests()
    assert driver.reboot_node(listed) is True
    assert len(_non_get(sim)) == 1
    assert listed.state is NodeState.RUNNING
    _until(_settled(driver, listed.id, NodeState.RUNNING))
    sim.reset_requests()
    # the object and the API both say running, which forbids start: refused, nothing sent
    with pytest.raises(ActionNotAllowedError) as err:
        driver.start_node(listed)
    assert err.value.state == "running"
    assert _non_get(sim) == [] and len(sim.requests) >= 1


def test_ex_force_skips_the_check_and_sends_nothing_else(sim: Simulator) -> None:
    sim.seed_nodes(1)
    driver = sim.driver(max_retries=0)
    node = driver.list_nodes()[0]
    stale = Node(node.id, node.name, NodeState.TERMINATED, [], [], driver)
    sim.reset_requests()
    try:
        driver.reboot_node(stale, ex_force=True)
    except NotFoundError:
        pass
    assert sim.requests, "nothing was sent"
    assert sim.requests[0].method != "GET", "ex_force=True still asked for the node's state first"


def test_a_destroyed_node_is_refused_or_not_found_with_a_clear_error(sim: Simulator) -> None:
    sim.seed_nodes(1)
    driver = sim.driver(max_retries=0)
    node = driver.list_nodes()[0]
    assert driver.destroy_node(node) is True
    _until(lambda: sim.node_count() == 0)
    gone = Node(node.id, node.name, NodeState.TERMINATED, [], [], driver)
    with pytest.raises((NotFoundError, ActionNotAllowedError)) as err:
        driver.reboot_node(gone)  # the API is asked: the node is gone
    assert isinstance(err.value, ActionNotAllowedError) or err.value.status in (404, None)
    assert str(err.value)


def test_wait_until_running_refreshes_every_object_it_was_given(sim: Simulator) -> None:
    driver = sim.driver()
    node = _create(sim, driver)
    before = node.state
    [(returned, ips)] = driver.wait_until_running([node], wait_period=0.05, timeout=10)
    assert returned is node
    assert before in (NodeState.PENDING, NodeState.RUNNING, NodeState.STARTING)
    assert node.state is NodeState.RUNNING and node.public_ips and ips == [
        ip for ip in node.public_ips if ":" not in ip]
