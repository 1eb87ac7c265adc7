"""Linode power actions, destroy, resize, rebuild, rename; the allowed-actions table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from drivers._linode_support import LinodeAPI, linode_api, load, make_driver
from support.fresh import confirm_state

from cloudkit import NodeState
from cloudkit.drivers.linode import LINODE_NODE_ACTIONS, LINODE_STATE_MAP, LinodeNodeDriver
from cloudkit.errors import ActionNotAllowedError, ValidationError
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey

ID = "61234501"
BASE = f"/v4/linode/instances/{ID}"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOnbu0cXKhhvOTOs2x+EUImpCDp0fldMHtKccc4XQ1R8 ci-deploy"


@pytest.fixture(autouse=True)
def api() -> Iterator[LinodeAPI]:
    with linode_api() as mocked:
        yield mocked


def node_in(driver: LinodeNodeDriver, status: str) -> Node:
    body = load("GET_v4_linode_instances_61234501.json")
    body["status"] = status
    return driver._to_node(body)


@pytest.mark.parametrize(("method", "suffix", "status"), [
    ("reboot_node", "/reboot", "running"),
    ("stop_node", "/shutdown", "running"),
    ("start_node", "/boot", "offline"),
])
def test_power_actions_post_to_their_endpoint(method: str, suffix: str, status: str, api: LinodeAPI) -> None:
    api.add("POST", BASE + suffix, "POST_v4_linode_instances_61234501_action.json")
    driver = make_driver()
    assert getattr(driver, method)(node_in(driver, status)) is True
    call = api.calls[0]
    assert (call.method, call.path, call.body) == ("POST", BASE + suffix, None)


@pytest.mark.parametrize(("method", "suffix"), [("reboot_node", "/reboot"), ("start_node", "/boot"),
                                                ("stop_node", "/shutdown")])
def test_power_actions_accept_an_id(method: str, suffix: str, api: LinodeAPI) -> None:
    api.add("POST", BASE + suffix, "POST_v4_linode_instances_61234501_action.json")
    assert getattr(make_driver(), method)(ID) is True
    assert [c.path for c in api.calls] == [BASE + suffix]


def test_destroy_node(api: LinodeAPI) -> None:
    api.add("DELETE", BASE, "DELETE_v4_linode_instances_61234501.json")
    driver = make_driver()
    assert driver.destroy_node(node_in(driver, "running")) is True
    assert [(c.method, c.path) for c in api.calls] == [("DELETE", BASE)]


def test_action_on_a_busy_linode_reports_the_api_reason(api: LinodeAPI) -> None:
    api.add("POST", BASE + "/boot", "error_400_busy.json", status=400)
    with pytest.raises(ValidationError, match=f"Linode {ID} already booted"):
        make_driver().start_node(ID)


def test_start_on_a_running_node_raises_before_any_request(api: LinodeAPI) -> None:
    driver = make_driver()
    node = node_in(driver, "running")
    asked = confirm_state(driver, node)
    with pytest.raises(ActionNotAllowedError) as info:
        driver.start_node(node)
    assert asked == [node.id]
    message = str(info.value)
    assert "start_node" in message and "running" in message
    assert "reboot_node" in message and "stop_node" in message  # what is allowed instead
    assert api.calls == []


@pytest.mark.parametrize(("status", "method"), [
    ("offline", "stop_node"), ("offline", "reboot_node"), ("provisioning", "reboot_node"),
    ("booting", "stop_node"), ("shutting_down", "start_node"), ("migrating", "start_node"),
    ("billing_suspension", "start_node"), ("rebuilding", "stop_node"),
])
def test_actions_not_allowed_in_a_state_raise_before_any_request(status: str, method: str,
                                                                 api: LinodeAPI) -> None:
    driver = make_driver()
    stale = node_in(driver, status)
    asked = confirm_state(driver, stale)
    with pytest.raises(ActionNotAllowedError):
        getattr(driver, method)(stale)
    assert api.calls == []
    assert asked == [stale.id]


def test_ex_force_sends_anyway(api: LinodeAPI) -> None:
    api.add("POST", BASE + "/boot", "POST_v4_linode_instances_61234501_action.json")
    driver = make_driver()
    assert driver.start_node(node_in(driver, "running"), ex_force=True) is True
    assert len(api.calls) == 1


def test_node_actions_per_state() -> None:
    driver = make_driver()
    assert driver.node_actions(node_in(driver, "running")) == {
        "reboot_node", "stop_node", "destroy_node", "ex_resize_node", "ex_rebuild_node", "ex_rename_node"}
    assert driver.node_actions(node_in(driver, "offline")) == {
        "start_node", "destroy_node", "ex_resize_node", "ex_rebuild_node", "ex_rename_node"}
    assert driver.node_actions(node_in(driver, "provisioning")) == {"destroy_node", "ex_rename_node"}
    assert driver.node_actions(node_in(driver, "teleporting")) >= {"reboot_node", "start_node", "stop_node"}
    terminated = node_in(driver, "running")
    terminated.state = NodeState.TERMINATED
    assert driver.node_actions(terminated) == frozenset()


def test_action_table_covers_every_state_the_map_produces() -> None:
    driver = make_driver()
    for state in set(LINODE_STATE_MAP.values()) | {NodeState.UNKNOWN, NodeState.TERMINATED}:
        assert state in LINODE_NODE_ACTIONS
        for action in LINODE_NODE_ACTIONS[state]:
            assert driver.supports(action), action


def test_resize(api: LinodeAPI) -> None:
    api.add("POST", BASE + "/resize", "POST_v4_linode_instances_61234501_action.json")
    driver = make_driver()
    assert driver.ex_resize_node(node_in(driver, "offline"), "g6-standard-4", migration_type="warm") is True
    assert api.calls[0].json() == {"type": "g6-standard-4", "allow_auto_disk_resize": True,
                                   "migration_type": "warm"}


def test_resize_refuses_bad_input_and_busy_states_before_any_request(api: LinodeAPI) -> None:
    driver = make_driver()
    with pytest.raises(ValidationError, match="migration_type"):
        driver.ex_resize_node(ID, "g6-standard-4", migration_type="hot")
    busy = node_in(driver, "provisioning")
    confirm_state(driver, busy)
    with pytest.raises(ActionNotAllowedError):
        driver.ex_resize_node(busy, "g6-standard-4")
    assert api.calls == []


def test_rebuild_generates_a_password_and_returns_the_node(api: LinodeAPI) -> None:
    api.add("POST", BASE + "/rebuild", "POST_v4_linode_instances_61234501_rebuild.json")
    driver = make_driver()
    node = driver.ex_rebuild_node(node_in(driver, "running"), "linode/ubuntu24.04", auth=NodeAuthSSHKey(KEY),
                                  ex_booted=True)
    body = api.calls[0].json()
    assert body["image"] == "linode/ubuntu24.04"
    assert body["authorized_keys"] == [KEY]
    assert body["booted"] is True
    assert body["root_pass"] == node.extra["password"]
    assert node.state is NodeState.PENDING
    assert node.image is not None and node.image.id == "linode/ubuntu24.04"


def test_rebuild_with_a_password_does_not_echo_it(api: LinodeAPI) -> None:
    api.add("POST", BASE + "/rebuild", "POST_v4_linode_instances_61234501_rebuild.json")
    node = make_driver().ex_rebuild_node(ID, "linode/ubuntu24.04", auth=NodeAuthPassword("An0ther-good-one"))
    assert api.calls[0].json()["root_pass"] == "An0ther-good-one"
    assert "password" not in node.extra


def test_rename(api: LinodeAPI) -> None:
    api.add("PUT", BASE, "PUT_v4_linode_instances_61234501_label.json")
    driver = make_driver()
    node = driver.ex_rename_node(node_in(driver, "running"), "web-1-blue")
    assert api.calls[0].json() == {"label": "web-1-blue"}
    assert node.name == "web-1-blue"


def test_rename_refuses_a_bad_label_before_any_request(api: LinodeAPI) -> None:
    with pytest.raises(ValidationError, match="must not contain '__'"):
        make_driver().ex_rename_node(ID, "web__1")
    assert api.calls == []


def test_supports_answers_for_every_method() -> None:
    driver = make_driver()
    for name in ("list_nodes", "get_node", "create_node", "reboot_node", "start_node", "stop_node",
                 "destroy_node", "list_sizes", "list_images", "list_locations", "list_key_pairs",
                 "get_key_pair", "import_key_pair_from_string", "create_key_pair", "delete_key_pair",
                 "verify_credentials", "ex_resize_node", "ex_rebuild_node", "ex_rename_node", "ex_create_tag",
                 "ex_tag_node", "ex_untag_node", "ex_list_tags", "ex_delete_tag", "ex_get_image"):
        assert driver.supports(name), name
    assert not driver.supports("ex_teleport_node")
    assert set(driver.features["create_node"]) == {"ssh_key", "password", "generates_password"}
