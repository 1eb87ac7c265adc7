"""DigitalOcean droplet actions: power, reboot, rebuild, resize, rename; the per-state action
table; waiting for an action to finish."""

from __future__ import annotations

from typing import Any

import pytest
from drivers._digitalocean_support import add, checked, fixture, make_driver
from support.fresh import confirm_state

from cloudkit import NodeState
from cloudkit.drivers.digitalocean import DigitalOceanAction, DigitalOceanNodeDriver
from cloudkit.errors import (
    ActionNotAllowedError,
    MalformedResponseError,
    ProviderError,
    ValidationError,
    WaitTimeoutError,
)
from cloudkit.models import Node, NodeImage, NodeSize

RUNNING_FILE, STOPPED_FILE = "GET_v2_droplets_401001.json", "GET_v2_droplets_401003.json"


def node_in(state: NodeState, driver: DigitalOceanNodeDriver) -> Node:
    source = STOPPED_FILE if state is NodeState.STOPPED else RUNNING_FILE
    node = driver._to_node(fixture(source)["droplet"])
    node.state = state
    return node


def running(driver: DigitalOceanNodeDriver) -> Node:
    return driver._to_node(fixture(RUNNING_FILE)["droplet"])


def stopped(driver: DigitalOceanNodeDriver) -> Node:
    return driver._to_node(fixture(STOPPED_FILE)["droplet"])


# -- each action sends its documented body ----------------------------------------------------


@pytest.mark.parametrize(("call", "which", "fixture_file", "body"), [
    (lambda d, n: d.reboot_node(n), "running", "POST_v2_droplets_actions_reboot.json", {"type": "reboot"}),
    (lambda d, n: d.stop_node(n), "running", "POST_v2_droplets_actions_shutdown.json", {"type": "shutdown"}),
    (lambda d, n: d.stop_node(n, ex_force=True), "running", "POST_v2_droplets_actions_power_off.json",
     {"type": "power_off"}),
    (lambda d, n: d.start_node(n), "stopped", "POST_v2_droplets_actions_power_on.json", {"type": "power_on"}),
    (lambda d, n: d.ex_power_cycle_node(n), "running", "POST_v2_droplets_actions_power_cycle.json",
     {"type": "power_cycle"}),
    (lambda d, n: d.ex_rebuild_node(n), "running", "POST_v2_droplets_actions_rebuild.json",
     {"type": "rebuild", "image": 160232537}),
    (lambda d, n: d.ex_rebuild_node(n, "debian-12-x64"), "running", "POST_v2_droplets_actions_rebuild.json",
     {"type": "rebuild", "image": "debian-12-x64"}),
    (lambda d, n: d.ex_resize_node(n, "s-2vcpu-4gb"), "stopped", "POST_v2_droplets_actions_resize.json",
     {"type": "resize", "size": "s-2vcpu-4gb", "disk": False}),
    (lambda d, n: d.ex_resize_node(n, NodeSize("s-4vcpu-8gb", "s-4vcpu-8gb", 8192, 160, 5.0, 0.07143),
                                   ex_disk=True), "stopped", "POST_v2_droplets_actions_resize.json",
     {"type": "resize", "size": "s-4vcpu-8gb", "disk": True}),
    (lambda d, n: d.ex_rename_node(n, "web-1.example.com"), "running", "POST_v2_droplets_actions_rename.json",
     {"type": "rename", "name": "web-1.example.com"}),
])
def test_action_bodies(call: Any, which: str, fixture_file: str, body: dict[str, Any]) -> None:
    driver = make_driver()
    node = running(driver) if which == "running" else stopped(driver)
    with checked() as (mock, traffic):
        add(mock, "POST", f"/v2/droplets/{node.id}/actions", fixture_file, status=201)
        assert call(driver, node) is True
    assert len(traffic.calls) == 1
    assert traffic.calls[0].path == f"/v2/droplets/{node.id}/actions"
    assert traffic.calls[0].json() == body


def test_actions_accept_a_droplet_id_without_a_state_check() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets/401003/actions", "POST_v2_droplets_actions_power_on.json", status=201)
        assert driver.start_node("401003") is True
    assert traffic.calls[0].json() == {"type": "power_on"}


def test_rebuild_of_an_id_needs_an_image() -> None:
    driver = make_driver()
    with checked() as (_, traffic), pytest.raises(ValidationError):
        driver.ex_rebuild_node("401001")
    assert traffic.calls == []


def test_rebuild_with_image_object() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets/401001/actions", "POST_v2_droplets_actions_rebuild.json", status=201)
        driver.ex_rebuild_node("401001", NodeImage("155132839", "12 x64"))
    assert traffic.calls[0].json() == {"type": "rebuild", "image": 155132839}


@pytest.mark.parametrize("call", [
    lambda d, n: d.ex_rename_node(n, "bad_name"),
    lambda d, n: d.ex_resize_node(n, "no such size"),
    lambda d, n: d.ex_resize_node(n, "s-1vcpu-1gb", ex_disk="yes"),
    lambda d, n: d.ex_perform_action(n, "Reboot Now"),
    lambda d, n: d.reboot_node("not-a-number"),
])
def test_bad_action_input_refused_before_any_request(call: Any) -> None:
    driver = make_driver()
    with checked() as (_, traffic), pytest.raises(ValidationError):
        call(driver, stopped(driver))
    assert traffic.calls == []


def test_resize_refused_by_the_api_when_on_carries_its_message() -> None:
    driver = make_driver()
    node = running(driver)
    with checked() as (mock, _):
        add(mock, "POST", "/v2/droplets/401001/actions", "error_422_resize_on.json", status=422)
        with pytest.raises(ValidationError, match="Please power it off"):
            driver.ex_resize_node(node, "s-2vcpu-4gb", ex_force=True)


def test_ex_perform_action_returns_the_action() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets/401001/actions", "POST_v2_droplets_actions_reboot.json", status=201)
        action = driver.ex_perform_action("401001", "reboot")
    assert isinstance(action, DigitalOceanAction)
    assert (action.id, action.type, action.status, action.resource_id) == (
        "2290020001", "reboot", "in-progress", "401001")
    assert action.region == "nyc3" and not action.done
    assert traffic.calls[0].json() == {"type": "reboot"}


# -- the action table -------------------------------------------------------------------------


def test_node_actions_per_state() -> None:
    driver = make_driver()
    assert driver.node_actions(node_in(NodeState.RUNNING, driver)) == {
        "reboot_node", "stop_node", "destroy_node", "ex_power_cycle_node", "ex_rebuild_node", "ex_rename_node"}
    assert driver.node_actions(node_in(NodeState.STOPPED, driver)) == {
        "start_node", "destroy_node", "ex_resize_node", "ex_rebuild_node", "ex_rename_node"}
    assert driver.node_actions(node_in(NodeState.PENDING, driver)) == {"destroy_node"}
    assert driver.node_actions(node_in(NodeState.TERMINATED, driver)) == frozenset()
    assert "start_node" in driver.node_actions(node_in(NodeState.UNKNOWN, driver))
    assert "ex_resize_node" in driver.node_actions(node_in(NodeState.UNKNOWN, driver))


@pytest.mark.parametrize(("state", "call", "action"), [
    (NodeState.RUNNING, lambda d, n: d.start_node(n), "start_node"),
    (NodeState.RUNNING, lambda d, n: d.ex_resize_node(n, "s-2vcpu-4gb"), "ex_resize_node"),
    (NodeState.STOPPED, lambda d, n: d.reboot_node(n), "reboot_node"),
    (NodeState.STOPPED, lambda d, n: d.stop_node(n), "stop_node"),
    (NodeState.STOPPED, lambda d, n: d.ex_power_cycle_node(n), "ex_power_cycle_node"),
    (NodeState.PENDING, lambda d, n: d.reboot_node(n), "reboot_node"),
    (NodeState.PENDING, lambda d, n: d.ex_rename_node(n, "x1"), "ex_rename_node"),
    (NodeState.TERMINATED, lambda d, n: d.destroy_node(n), "destroy_node"),
    (NodeState.TERMINATED, lambda d, n: d.ex_rebuild_node(n), "ex_rebuild_node"),
])
def test_action_not_allowed_raises_before_any_request(state: NodeState, call: Any, action: str) -> None:
    driver = make_driver()
    node = node_in(state, driver)
    asked = confirm_state(driver, node)
    with checked() as (_, traffic), pytest.raises(ActionNotAllowedError) as info:
        call(driver, node)
    assert traffic.calls == []
    assert asked == [node.id]  # decided on the state the API reports, not on the cached one
    assert info.value.action == action
    assert info.value.state == state.value
    assert set(info.value.allowed) == set(driver.node_actions(node))
    assert state.value in str(info.value)


def test_ex_force_sends_an_action_the_table_refuses() -> None:
    driver = make_driver()
    node = node_in(NodeState.RUNNING, driver)
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets/401001/actions", "POST_v2_droplets_actions_power_on.json", status=201)
        assert driver.start_node(node, ex_force=True) is True
    assert traffic.calls[0].json() == {"type": "power_on"}


def test_supports_agrees_with_the_methods() -> None:
    driver = make_driver()
    for name in ("list_nodes", "create_node", "reboot_node", "start_node", "stop_node", "destroy_node",
                 "list_sizes", "list_images", "list_locations", "list_key_pairs", "create_key_pair",
                 "import_key_pair_from_string", "delete_key_pair", "verify_credentials", "ex_resize_node",
                 "ex_rebuild_node", "ex_rename_node", "ex_power_cycle_node", "ex_wait_for_action",
                 "ex_create_tag", "ex_tag_node", "ex_untag_node"):
        assert driver.supports(name), name
    assert not driver.supports("ex_teleport_node")
    assert driver.features["create_node"] == ["ssh_key"]


# -- waiting for an action --------------------------------------------------------------------


def test_wait_for_action_polls_until_completed() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        mock.add("GET", "https://api.digitalocean.com/v2/actions/2290020001",
                 json=fixture("GET_v2_actions_2290020001_in-progress.json"))
        mock.add("GET", "https://api.digitalocean.com/v2/actions/2290020001",
                 json=fixture("GET_v2_actions_2290020001_completed.json"))
        done = driver.ex_wait_for_action(2290020001, timeout=10, interval=0)
    assert done.status == "completed" and done.done
    assert done.completed_at is not None and done.completed_at.second == 41
    assert [c.path for c in traffic.calls] == ["/v2/actions/2290020001"] * 2


def test_reboot_with_ex_wait_returns_after_completion() -> None:
    driver = make_driver()
    node = running(driver)
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/droplets/401001/actions", "POST_v2_droplets_actions_reboot.json", status=201)
        add(mock, "GET", "/v2/actions/2290020001", "GET_v2_actions_2290020001_completed.json")
        assert driver.reboot_node(node, ex_wait=True) is True
    assert [(c.method, c.path) for c in traffic.calls] == [
        ("POST", "/v2/droplets/401001/actions"), ("GET", "/v2/actions/2290020001")]


def test_errored_action_raises() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "GET", "/v2/actions/2290020007", "GET_v2_actions_2290020007_errored.json")
        with pytest.raises(ProviderError, match="errored") as info:
            driver.ex_wait_for_action("2290020007", interval=0)
    assert "resize" in str(info.value) and "401003" in str(info.value)


def test_wait_for_action_times_out() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "GET", "/v2/actions/2290020001", "GET_v2_actions_2290020001_in-progress.json")
        with pytest.raises(WaitTimeoutError) as info:
            driver.ex_wait_for_action("2290020001", timeout=0.05, interval=0.01)
    assert info.value.job == "2290020001"
    assert info.value.last_states == {"2290020001": "in-progress"}


def test_wait_on_an_answer_without_an_action_is_malformed() -> None:
    driver = make_driver()
    with checked(responses_too=False) as (mock, _):
        add(mock, "POST", "/v2/droplets/401001/actions", {"ok": True}, status=201)
        with pytest.raises(MalformedResponseError):
            driver.reboot_node("401001", ex_wait=True)


def test_get_and_list_actions() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/actions/2290020001", "GET_v2_actions_2290020001_completed.json")
        add(mock, "GET", "/v2/droplets/401001/actions", "GET_v2_droplets_401001_actions.json")
        add(mock, "GET", "/v2/actions", "GET_v2_actions.json", any_query=True)
        one = driver.ex_get_action("2290020001")
        mine = driver.ex_list_actions(running(driver))
        everything = driver.ex_list_actions()
    assert one.type == "reboot" and one.status == "completed"
    assert [a.type for a in mine] == ["reboot", "create"]
    assert [a.id for a in everything] == ["2290020001", "2290011000", "2290011002"]
    assert everything[2].region == "fra1"
    assert traffic.calls[1].query == {"page": ["1"], "per_page": ["200"]}


def test_legacy_action_with_region_as_a_slug() -> None:
    action = make_driver()._to_action({"id": 39290099, "status": "completed", "type": "create",
                                       "started_at": "2014-12-19T19:14:36Z",
                                       "completed_at": "2014-12-19T19:15:23Z", "resource_id": 12345,
                                       "resource_type": "droplet", "region": "nyc3"})
    assert (action.region, action.resource_id, action.done) == ("nyc3", "12345", True)


@pytest.mark.parametrize("bad", ["", "abc", None, True])
def test_bad_action_id_refused(bad: Any) -> None:
    with pytest.raises(ValidationError):
        make_driver().ex_get_action(bad)
