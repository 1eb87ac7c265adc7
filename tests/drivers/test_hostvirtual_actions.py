"""HostVirtual power and lifecycle actions, the per-state action table and the package extras."""

from __future__ import annotations

import pytest
from drivers._hostvirtual_support import (
    API_KEY,
    HostVirtualAPI,
    api_fixture,  # noqa: F401  (a fixture)
    driver_fixture,  # noqa: F401  (a fixture)
    load,
)
from support.fresh import confirm_state

from cloudkit.drivers.hostvirtual import HostVirtualNodeDriver
from cloudkit.errors import (
    ActionNotAllowedError,
    InvalidCredsError,
    NotFoundError,
    ProviderError,
    ValidationError,
)
from cloudkit.models import Node, NodeAuthPassword, NodeAuthSSHKey, NodeState

PUBKEY = load("GET_server_sshkeys.json")[0]["ssh_key"]


def node(driver: HostVirtualNodeDriver, state: NodeState, node_id: str = "412017", **extra: str) -> Node:
    return Node(node_id, "app1.cloudkit-test.net", state, ["203.0.113.10"], [], driver, extra=dict(extra))


# -- the action table -------------------------------------------------------------------------

def test_action_table(driver: HostVirtualNodeDriver) -> None:
    assert driver.node_actions(node(driver, NodeState.RUNNING)) == {
        "reboot_node", "stop_node", "destroy_node", "ex_delete_node"}
    assert driver.node_actions(node(driver, NodeState.STOPPED)) == {
        "start_node", "destroy_node", "ex_delete_node"}
    for state in (NodeState.PENDING, NodeState.STARTING, NodeState.STOPPING, NodeState.REBOOTING):
        assert driver.node_actions(node(driver, state)) == {"destroy_node"}
    # An uninstalled server's package is still billed: it can be cancelled or rebuilt.
    assert driver.node_actions(node(driver, NodeState.TERMINATED)) == {"destroy_node", "ex_build_node"}
    assert "start_node" in driver.node_actions(node(driver, NodeState.UNKNOWN))
    # Every state the state map produces has a row.
    assert set(driver.NODE_STATE_MAP.values()) | {NodeState.UNKNOWN} <= set(driver.NODE_ACTIONS)


@pytest.mark.parametrize(("method", "state"), [
    ("start_node", NodeState.RUNNING), ("reboot_node", NodeState.STOPPED),
    ("stop_node", NodeState.STOPPED), ("reboot_node", NodeState.PENDING),
    ("ex_delete_node", NodeState.TERMINATED)])
def test_refused_before_any_request(api: HostVirtualAPI, driver: HostVirtualNodeDriver, method: str,
                                    state: NodeState) -> None:
    stale = node(driver, state)
    asked = confirm_state(driver, stale)
    with pytest.raises(ActionNotAllowedError) as info:
        getattr(driver, method)(stale)
    assert info.value.state == state.value
    assert method in str(info.value)
    assert api.calls == []
    assert asked == [stale.id]


# -- power actions ----------------------------------------------------------------------------

def test_reboot(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_server_reboot.json")
    assert driver.reboot_node(node(driver, NodeState.RUNNING)) is True
    (call,) = api.calls
    assert (call.method, call.path) == ("POST", "/cloud/server/reboot")
    assert call.body == {"mbpkgid": "412017", "force": 0}
    assert call.query == {"key": API_KEY}
    assert call.headers["Content-Type"] == "application/json"


def test_forced_reboot_skips_the_check_and_asks_hard(api: HostVirtualAPI,
                                                      driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_server_reboot.json")
    assert driver.reboot_node(node(driver, NodeState.STOPPED), ex_force=True) is True
    assert api.calls[0].body == {"mbpkgid": "412017", "force": 1}


def test_actions_accept_an_id(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_server_start.json")
    assert driver.start_node("412018") is True
    assert api.calls[0].body == {"mbpkgid": "412018"}


def test_start_and_stop(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_server_start.json")
    api.reply("POST_cloud_server_shutdown.json")
    assert driver.start_node(node(driver, NodeState.STOPPED)) is True
    assert driver.stop_node(node(driver, NodeState.RUNNING)) is True
    assert api.route() == [("POST", "/cloud/server/start"), ("POST", "/cloud/server/shutdown")]
    assert api.calls[1].body == {"mbpkgid": "412017", "force": 0}


@pytest.mark.parametrize(("fixture", "method", "state", "text"), [
    ("POST_cloud_server_reboot_412.json", "reboot_node", NodeState.RUNNING, "server is locked"),
    ("POST_cloud_server_start_412.json", "start_node", NodeState.STOPPED, "already running"),
    ("POST_cloud_server_shutdown_412.json", "stop_node", NodeState.RUNNING, "not running"),
])
def test_refused_actions_raise_validation_errors(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                                 fixture: str, method: str, state: NodeState,
                                                 text: str) -> None:
    api.reply(fixture)
    with pytest.raises(ValidationError, match=text) as info:
        getattr(driver, method)(node(driver, state))
    assert info.value.status == 412
    assert len(api.calls) == 1  # a POST is never repeated


def test_an_explicit_failure_status_is_an_error(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply(method="POST", path="/cloud/server/reboot", body={"status": "error", "message": "busy"})
    with pytest.raises(ProviderError, match="busy"):
        driver.reboot_node(node(driver, NodeState.RUNNING))


def test_a_job_reference_or_an_empty_body_is_success(api: HostVirtualAPI,
                                                      driver: HostVirtualNodeDriver) -> None:
    api.reply(method="POST", path="/cloud/server/reboot", body={"id": "771"})
    api.reply(method="POST", path="/cloud/server/start", raw="", status=204)
    assert driver.reboot_node("412017") is True
    assert driver.start_node("412017") is True


# -- destroy ----------------------------------------------------------------------------------

def test_destroy_running_node_stops_cancels_and_unlinks(api: HostVirtualAPI,
                                                         driver: HostVirtualNodeDriver) -> None:
    for fixture in ("POST_cloud_server_shutdown.json", "POST_cloud_cancel.json", "POST_cloud_unlink.json"):
        api.reply(fixture)
    assert driver.destroy_node(node(driver, NodeState.RUNNING)) is True
    assert api.route() == [("POST", "/cloud/server/shutdown"), ("POST", "/cloud/cancel"),
                           ("POST", "/cloud/unlink")]
    assert api.calls[0].body == {"mbpkgid": "412017", "force": 1}
    assert api.calls[1].body == {"mbpkgid": "412017"}
    assert api.calls[2].body == {"mbpkgid": "412017"}


@pytest.mark.parametrize("state", [NodeState.STOPPED, NodeState.TERMINATED, NodeState.PENDING])
def test_destroy_does_not_stop_what_does_not_run(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                                 state: NodeState) -> None:
    api.reply("POST_cloud_cancel.json")
    api.reply("POST_cloud_unlink.json")
    assert driver.destroy_node(node(driver, state)) is True
    assert api.route() == [("POST", "/cloud/cancel"), ("POST", "/cloud/unlink")]


def test_destroy_by_id_looks_the_state_up(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_server.json")
    for fixture in ("POST_cloud_server_shutdown.json", "POST_cloud_cancel.json", "POST_cloud_unlink.json"):
        api.reply(fixture)
    assert driver.destroy_node("412017") is True
    assert api.route() == [("GET", "/cloud/server"), ("POST", "/cloud/server/shutdown"),
                           ("POST", "/cloud/cancel"), ("POST", "/cloud/unlink")]


def test_destroy_an_unbuilt_package_by_id(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_server_412_not_built.json")
    api.reply("POST_cloud_cancel.json")
    api.reply("POST_cloud_unlink.json")
    assert driver.destroy_node("412030") is True
    assert api.route() == [("GET", "/cloud/server"), ("POST", "/cloud/cancel"), ("POST", "/cloud/unlink")]


def test_destroy_carries_on_when_stop_and_unlink_are_refused(api: HostVirtualAPI,
                                                              driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_server_shutdown_412.json")
    api.reply("POST_cloud_cancel.json")
    api.reply("POST_cloud_unlink_412.json")
    assert driver.destroy_node(node(driver, NodeState.RUNNING)) is True
    assert [c.path for c in api.calls] == ["/cloud/server/shutdown", "/cloud/cancel", "/cloud/unlink"]


@pytest.mark.parametrize("fixture", ["POST_cloud_cancel_412.json", "POST_cloud_cancel_500.json"])
def test_destroy_raises_when_the_cancel_fails(api: HostVirtualAPI, driver: HostVirtualNodeDriver,
                                              fixture: str) -> None:
    api.reply(fixture)
    with pytest.raises(ProviderError) as info:
        driver.destroy_node(node(driver, NodeState.STOPPED))
    assert info.value.status in (412, 500)
    assert api.route() == [("POST", "/cloud/cancel")]  # no unlink, and the cancel is not repeated


# -- HostVirtual extras -----------------------------------------------------------------------

def test_ex_delete_node_uninstalls(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_server_delete.json")
    assert driver.ex_delete_node(node(driver, NodeState.STOPPED)) is True
    assert api.calls[0].body == {"mbpkgid": "412017"}


def test_ex_delete_node_permission_refused(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_server_delete_401.json")
    with pytest.raises(InvalidCredsError, match="apikey_allow_delete"):
        driver.ex_delete_node("412017")


def test_ex_cancel_and_unlink_package(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_cancel.json")
    api.reply("POST_cloud_unlink.json")
    assert driver.ex_cancel_package("412031") is True
    assert driver.ex_unlink_package(node(driver, NodeState.TERMINATED, "409961")) is True
    assert [c.body for c in api.calls] == [{"mbpkgid": "412031"}, {"mbpkgid": "409961"}]


def test_ex_list_packages(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_packages.json")
    packages = driver.ex_list_packages()
    assert [p["mbpkgid"] for p in packages] == ["412017", "412019", "412031"]
    assert packages[2]["package_status"] == "Suspended"
    assert packages[2]["fqdn"] is None


def test_ex_list_packages_empty(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_packages_404_empty.json")
    assert driver.ex_list_packages() == []


def test_ex_get_package(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_package_412017.json")
    api.reply("GET_cloud_package_404.json")
    assert driver.ex_get_package("412017")["fqdn"] == "app1.cloudkit-test.net"
    with pytest.raises(NotFoundError, match="Not Found: package"):
        driver.ex_get_package("999999")


def test_ex_get_job(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_serverjob_running.json")
    api.reply("GET_cloud_serverjob.json")
    running = driver.ex_get_job("412030", "9912001")
    assert (running["status"], running["done"], running["succeeded"]) == (3, False, False)
    done = driver.ex_get_job("412030", "9912001")
    assert (done["id"], done["status"], done["done"], done["succeeded"]) == ("9912001", 5, True, True)
    assert api.calls[0].query == {"key": API_KEY, "mbpkgid": "412030", "job_id": "9912001"}


def test_ex_get_job_missing(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_serverjob_404.json")
    with pytest.raises(NotFoundError):
        driver.ex_get_job("412030", "1")


def test_ex_order_package(api: HostVirtualAPI, driver: HostVirtualNodeDriver) -> None:
    api.reply("GET_cloud_sizes.json")
    api.reply("POST_cloud_buy.json")
    assert driver.ex_order_package("102") == "412030"  # a plan id: its name is looked up
    assert api.route() == [("GET", "/cloud/sizes/"), ("POST", "/cloud/buy/")]
    assert api.calls[1].body == {"plan": "VR2G"}


def test_ex_build_node_rebuilds_a_terminated_server(api: HostVirtualAPI,
                                                     driver: HostVirtualNodeDriver) -> None:
    api.reply("POST_cloud_server_build.json")
    old = node(driver, NodeState.TERMINATED, "409961", location="33")
    assert driver.ex_build_node(old, "3102", auth=NodeAuthSSHKey(PUBKEY)) == "9912001"
    assert api.calls[0].body == {"mbpkgid": "409961", "fqdn": "app1.cloudkit-test.net", "image": "3102",
                                 "location": "33", "ssh_key": PUBKEY}


def test_ex_build_node_needs_credentials_and_a_location(api: HostVirtualAPI,
                                                         driver: HostVirtualNodeDriver) -> None:
    old = node(driver, NodeState.TERMINATED, "409961")
    with pytest.raises(ValidationError, match="location"):
        driver.ex_build_node(old, "3102", auth=NodeAuthPassword("s3cret-Passw0rd"))
    with pytest.raises(ValidationError, match="auth"):
        driver.ex_build_node(old, "3102", location="33")
    running = node(driver, NodeState.RUNNING)
    confirm_state(driver, running)
    with pytest.raises(ActionNotAllowedError):
        driver.ex_build_node(running, "3102", "33", NodeAuthSSHKey(PUBKEY))
    assert api.calls == []
