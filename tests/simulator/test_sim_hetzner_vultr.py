"""The Hetzner Cloud and Vultr drivers through their simulators: the whole life of a server
(create, wait, reboot, stop, start, destroy), tag filters, key pairs and a wrong token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloudkit import NodeState, get_driver
from cloudkit.errors import ActionNotAllowedError, InvalidCredsError, NotFoundError, ValidationError
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey
from cloudkit.testing.simulator import SimulatedCloud, simulate

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID4brM3lNIB7nKMiFUxd0sFH49rYwWJHJsYxuJcFIQQu ci"

#: provider → (size, image, location) to create with
CREATE = {"hetzner": ("cx22", "debian-12", "fsn1"), "vultr": ("vc2-1c-1gb", "2136", "ewr")}


@pytest.fixture(params=sorted(CREATE))
def cloud(request: pytest.FixtureRequest) -> Iterator[SimulatedCloud]:
    with simulate(request.param, boot_seconds=0.05, action_seconds=0.05, nodes=3, node_tag="web",
                  driver_options={"max_retries": 0}) as sim:
        yield sim


def _until(check: Callable[[], Any], attempts: int = 200) -> Any:
    """Poll ``check`` (bounded: 200 tries of 20 ms) until it returns something truthy."""
    import time

    for _ in range(attempts):
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in 200 tries")


def _state(cloud: SimulatedCloud, node: Node, wanted: NodeState) -> Node:
    return _until(lambda: (lambda n: n if n.state == wanted else None)(cloud.driver.get_node(node.id)))


def test_full_flow(cloud: SimulatedCloud) -> None:
    driver = cloud.driver
    size, image, location = CREATE[cloud.provider]
    node = driver.create_node(name="flow-1", size=size, image=image, location=location,
                              auth=NodeAuthSSHKey(PUBKEY))
    assert node.name == "flow-1" and node.state == NodeState.PENDING
    assert node.extra.get("password") is None or isinstance(node.extra["password"], str)
    [(ready, ips)] = driver.wait_until_running([node], wait_period=0.05, timeout=20)
    assert ready is node and node.state == NodeState.RUNNING and ips == ["127.0.0.1"]
    assert driver.reboot_node(node) is True
    _state(cloud, node, NodeState.RUNNING)
    assert driver.stop_node(node) is True
    stopped = _state(cloud, node, NodeState.STOPPED)
    with pytest.raises(ActionNotAllowedError):
        driver.reboot_node(stopped)  # decided on what the API says now: the node is off
    assert driver.start_node(stopped) is True
    _state(cloud, node, NodeState.RUNNING)
    assert driver.destroy_node(node) is True
    with pytest.raises(NotFoundError):
        driver.get_node(node.id)
    assert cloud.node_count() == 3
    assert cloud.simulator.server_errors == []


def test_ssh_key_is_stored_once_and_reused(cloud: SimulatedCloud) -> None:
    driver = cloud.driver
    size, image, location = CREATE[cloud.provider]
    for name in ("key-1", "key-2"):
        driver.create_node(name=name, size=size, image=image, location=location, auth=NodeAuthSSHKey(PUBKEY))
    pairs = driver.list_key_pairs()
    assert len(pairs) == 1 and pairs[0].public_key == PUBKEY and pairs[0].id
    creates = [r for r in cloud.requests if r.method == "POST" and r.path.endswith(("/servers", "/instances"))]
    sent = [r.body.get("ssh_keys") or r.body.get("sshkey_id") for r in creates]
    assert sent == [[pairs[0].id], [pairs[0].id]]
    assert driver.delete_key_pair(pairs[0]) is True
    assert driver.list_key_pairs() == []


def test_generated_password_is_returned_once(cloud: SimulatedCloud) -> None:
    size, image, location = CREATE[cloud.provider]
    node = cloud.driver.create_node(name="pw-1", size=size, image=image, location=location)
    assert isinstance(node.extra["password"], str) and node.extra["password"]
    assert node.extra["password"] not in repr(node)
    with pytest.raises(ValidationError):
        cloud.driver.create_node(name="pw-2", size=size, image=image, location=location,
                                 auth=NodeAuthPassword("Secret-Pass-123"))


def test_tag_filter_and_paging(cloud: SimulatedCloud) -> None:
    cloud.simulator.seed_nodes(4, name_prefix="other")
    driver = cloud.new_driver(page_size=2)
    assert len(driver.list_nodes()) == 7
    tagged = driver.list_nodes(tag="web")
    assert sorted(n.name for n in tagged) == ["node-1", "node-2", "node-3"]
    assert all("web" in n.tags for n in tagged)
    assert driver.list_nodes(tag="nothing") == []


def test_catalogue(cloud: SimulatedCloud) -> None:
    driver = cloud.driver
    sizes = driver.list_sizes()
    assert sizes and all(s.ram >= 512 and s.disk > 0 and s.price and s.price < 1 for s in sizes)
    assert all(isinstance(s.vcpus, int) for s in sizes)
    assert driver.list_images() and driver.list_locations()
    location = driver.list_locations()[0]
    assert all(s.id for s in driver.list_sizes(location))
    assert driver.verify_credentials() is True


def test_wrong_token_is_invalid_creds(cloud: SimulatedCloud) -> None:
    bad = get_driver(cloud.provider)("not-the-token", base_url=cloud.driver.connection.base_url, max_retries=0)
    for call in (bad.list_nodes, bad.verify_credentials, bad.list_sizes):
        with pytest.raises(InvalidCredsError) as info:
            call()
        assert "not-the-token" not in str(info.value)


def test_hetzner_actions_are_waited_for_with_ex_wait() -> None:
    with simulate("hetzner", boot_seconds=0, action_seconds=0.3, nodes=1) as cloud:
        driver = cloud.driver
        [node] = driver.list_nodes()
        assert driver.stop_node(node, ex_wait=True) is True
        # the action is done when stop_node returns: the server is off already
        assert driver.get_node(node.id).state is NodeState.STOPPED
        assert driver.start_node(node, ex_wait=True) is True
        assert driver.get_node(node.id).state is NodeState.RUNNING
        polls = [r for r in cloud.requests if r.method == "GET" and r.path.startswith("/v1/actions/")]
        assert polls, "ex_wait=True did not poll the action"
