"""NephoScale: listing, getting, power actions, destroy, rename, states and the error mapping."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from drivers._nephoscale_support import (
    add,
    api_fixture,  # noqa: F401  (a fixture)
    calls,
    driver_fixture,  # noqa: F401  (a fixture)
    form,
    load,
    make_driver,
    nephoscale_prices_fixture,  # noqa: F401  (a fixture)
)
from support.fresh import confirm_state

from cloudkit.drivers.nephoscale import NephoscaleNodeDriver
from cloudkit.errors import (
    ActionNotAllowedError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    ServerError,
    ValidationError,
)
from cloudkit.models import Node, NodeState


def _node(driver: NephoscaleNodeDriver, state: NodeState, node_id: str = "150211") -> Node:
    return Node(node_id, "build-01", state, ["198.51.100.41"], ["10.140.2.17"], driver)


# -- listing ----------------------------------------------------------------------------------


def test_list_nodes(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    nodes = driver.list_nodes()
    assert [(n.id, n.name, n.state, n.public_ips, n.private_ips) for n in nodes] == [
        ("150211", "build-01", NodeState.RUNNING, ["198.51.100.41"], ["10.140.2.17"]),
        ("150298", "db_primary", NodeState.STOPPED, ["203.0.113.88"], ["10.141.9.4"]),
        ("150305", "scratch-9", NodeState.UNKNOWN, [], []),
    ]
    first = nodes[0]
    assert first.driver is driver
    assert first.tags == []
    assert first.created_at == dt.datetime(2014, 7, 21, 11, 4, 52, tzinfo=dt.UTC)
    assert first.extra["hostname"] == "build-01"
    assert first.extra["zone"] == "SJC-3" and first.extra["zone_id"] == "88412"
    assert first.extra["image"] == "Linux Ubuntu Server 14.04 LTS 64-bit"
    assert first.extra["service_type"] == "CS1 - 1GB, 1Core, 50GB"
    assert first.extra["power_status"] == "on"
    assert first.extra["postinit_state"] == 1
    assert first.extra["server_key_ids"] == [91502]
    assert first.extra["console_key_ids"] == [91503]
    assert first.extra["network_ports"][1]["network_domain"]["domain_type"] == 1
    assert first.image is not None and first.image.id == "411"
    assert first.image.extra["has_agent"] is True
    assert first.size is not None
    assert (first.size.id, first.size.ram, first.size.price) == ("3", 1024, 0.063)
    # An SSD size has no known price.
    assert nodes[1].size is not None and nodes[1].size.id == "221" and nodes[1].size.price is None
    assert nodes[2].extra["postinit_state"] == 0


def test_list_nodes_empty(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud_empty.json")
    assert driver.list_nodes() == []


def test_tag_filter_is_client_side_and_empty(api: responses.RequestsMock,
                                             driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    assert driver.list_nodes(tag="web") == []
    assert api.calls[0].request.url.endswith("/server/cloud/")  # no query sent


@pytest.mark.parametrize("tag", ["", "  ", 7])
def test_bad_tag_is_refused(driver: NephoscaleNodeDriver, tag: object) -> None:
    with pytest.raises(ValidationError):
        driver.list_nodes(tag=tag)  # type: ignore[arg-type]


def test_addresses_as_a_list_and_ipv6(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    body = load("GET_server_cloud.json")
    body["data"][0]["ipaddresses"] = ["198.51.100.41", "2001:db8::41", "10.140.2.17"]
    body["data"][1]["ipaddresses"] = " 203.0.113.88 ,10.141.9.4,"
    add(api, "GET", "/server/cloud/", body=body)
    nodes = driver.list_nodes()
    assert nodes[0].public_ips == ["198.51.100.41", "2001:db8::41"]
    assert nodes[0].private_ips == ["10.140.2.17"]
    assert nodes[1].public_ips == ["203.0.113.88"] and nodes[1].private_ips == ["10.141.9.4"]


def test_unknown_power_status_is_unknown(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    body = load("GET_server_cloud.json")
    body["data"][0]["power_status"] = "suspended"
    del body["data"][1]["power_status"]
    add(api, "GET", "/server/cloud/", body=body)
    nodes = driver.list_nodes()
    assert nodes[0].state == NodeState.UNKNOWN and nodes[1].state == NodeState.UNKNOWN


def test_a_server_without_id_is_malformed(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    body = load("GET_server_cloud.json")
    del body["data"][0]["id"]
    add(api, "GET", "/server/cloud/", body=body)
    with pytest.raises(MalformedResponseError, match="id"):
        driver.list_nodes()


def test_list_nodes_html_502(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud_502.html")
    with pytest.raises(ServerError, match="HTML page") as info:
        driver.list_nodes()
    assert info.value.status == 502


def test_list_nodes_503_then_retried(api: responses.RequestsMock) -> None:
    driver = make_driver(max_retries=2)
    driver.connection.retry = type(driver.connection.retry)(2, 0.001, 0.002, 5.0)
    add(api, "GET", "/server/cloud/", "GET_server_cloud_503.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    assert len(driver.list_nodes()) == 3
    assert len(api.calls) == 2


def test_list_nodes_503_without_retries(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/", "GET_server_cloud_503.json")
    with pytest.raises(ServerError, match="temporarily unavailable") as info:
        driver.list_nodes()
    assert info.value.status == 503 and info.value.code == "9"


# -- get_node ---------------------------------------------------------------------------------


def test_get_node_one_element_array(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150211/", "GET_server_cloud_ID.json")
    node = driver.get_node("150211")
    assert (node.id, node.name, node.state, node.public_ips) == (
        "150211", "build-01", NodeState.RUNNING, ["198.51.100.41"])


def test_get_node_object(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150211/", "GET_server_cloud_ID_object.json")
    assert driver.get_node("150211").name == "build-01"


def test_get_node_picks_the_server_by_id(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150298/", "GET_server_cloud.json")
    assert driver.get_node("150298").name == "db_primary"


def test_get_node_other_id_only_is_not_found(api: responses.RequestsMock,
                                             driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150999/", "GET_server_cloud_ID.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    with pytest.raises(NotFoundError, match="150999"):
        driver.get_node("150999")


def test_get_node_404(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150211/", "GET_server_cloud_ID_404.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud_empty.json")
    with pytest.raises(NotFoundError, match="not found") as info:
        driver.get_node("150211")
    assert info.value.status == 404 and info.value.code == "4"
    assert calls(api) == [("GET", "/server/cloud/150211/"), ("GET", "/server/cloud/")]


def test_get_node_falls_back_to_the_listing_on_404(api: responses.RequestsMock,
                                                   driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150298/", "GET_server_cloud_ID_404.json")
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    node = driver.get_node("150298")
    assert (node.id, node.name, node.state) == ("150298", "db_primary", NodeState.STOPPED)


def test_get_node_falls_back_to_the_listing_on_an_odd_shape(api: responses.RequestsMock,
                                                            driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150211/", body={"success": True, "response": 200, "data": "150211"})
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    assert driver.get_node("150211").name == "build-01"


def test_get_node_odd_shape_and_absent_is_not_found(api: responses.RequestsMock,
                                                    driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150999/", body=[1, 2])
    add(api, "GET", "/server/cloud/", "GET_server_cloud.json")
    with pytest.raises(NotFoundError):
        driver.get_node("150999")


@pytest.mark.parametrize("bad", ["", "  ", None])
def test_get_node_refuses_empty_ids(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                    bad: object) -> None:
    with pytest.raises(ValidationError):
        driver.get_node(bad)  # type: ignore[arg-type]
    assert len(api.calls) == 0


@pytest.mark.parametrize("bad", ["web-1", "12/34", "../x", "150211?x=1"])
def test_get_node_of_a_non_numeric_id_is_not_found_without_a_request(
        api: responses.RequestsMock, driver: NephoscaleNodeDriver, bad: str) -> None:
    with pytest.raises(NotFoundError, match="numbers") as info:
        driver.get_node(bad)
    assert info.value.status is None
    assert len(api.calls) == 0


@pytest.mark.parametrize("method", ["reboot_node", "start_node", "stop_node", "destroy_node"])
def test_actions_refuse_non_numeric_ids(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                        method: str) -> None:
    with pytest.raises(ValidationError, match="numbers"):
        getattr(driver, method)("web-1")
    assert len(api.calls) == 0


def test_wait_until_running_uses_get_node(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/cloud/150211/", "GET_server_cloud_ID.json")
    [(node, ips)] = driver.wait_until_running([_node(driver, NodeState.UNKNOWN)], timeout=5)
    assert node.state == NodeState.RUNNING and ips == ["198.51.100.41"]


# -- power actions ----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "verb", "state"), [
    ("reboot_node", "restart", NodeState.RUNNING),
    ("start_node", "start", NodeState.STOPPED),
    ("stop_node", "stop", NodeState.RUNNING),
])
def test_power_actions(api: responses.RequestsMock, driver: NephoscaleNodeDriver, method: str, verb: str,
                       state: NodeState) -> None:
    add(api, "POST", f"/server/cloud/150211/initiator/{verb}/", f"POST_server_cloud_ID_initiator_{verb}.json")
    assert getattr(driver, method)(_node(driver, state)) is True
    assert calls(api) == [("POST", f"/server/cloud/150211/initiator/{verb}/")]
    assert not api.calls[0].request.body


@pytest.mark.parametrize(("method", "verb"), [
    ("reboot_node", "restart"), ("start_node", "start"), ("stop_node", "stop")])
def test_power_actions_take_an_id(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                  method: str, verb: str) -> None:
    add(api, "POST", f"/server/cloud/150298/initiator/{verb}/", f"POST_server_cloud_ID_initiator_{verb}.json")
    assert getattr(driver, method)("150298") is True


def test_destroy_node(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "DELETE", "/server/cloud/150211/", "DELETE_server_cloud_ID.json")
    assert driver.destroy_node(_node(driver, NodeState.STOPPED)) is True
    assert calls(api) == [("DELETE", "/server/cloud/150211/")]


def test_destroy_node_204_empty(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "DELETE", "/server/cloud/150211/", status=204, body="")
    assert driver.destroy_node("150211") is True


def test_destroy_node_404(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "DELETE", "/server/cloud/150211/", "DELETE_server_cloud_ID_404.json")
    with pytest.raises(NotFoundError):
        driver.destroy_node("150211")


def test_reboot_404(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/server/cloud/150211/initiator/restart/", "POST_server_cloud_ID_initiator_restart_404.json")
    with pytest.raises(NotFoundError, match="not found"):
        driver.reboot_node("150211")


def test_start_conflict(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/server/cloud/150211/initiator/start/", "POST_server_cloud_ID_initiator_start_409.json")
    with pytest.raises(ConflictError, match="already powered on") as info:
        driver.start_node("150211")
    assert info.value.status == 409 and info.value.code == "6"


def test_stop_failure_inside_http_200(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/server/cloud/150211/initiator/stop/",
        "POST_server_cloud_ID_initiator_stop_200_failure.json")
    with pytest.raises(ConflictError, match="already powered off") as info:
        driver.stop_node("150211")
    assert info.value.status == 409


def test_action_reply_with_a_bad_response_code(api: responses.RequestsMock,
                                               driver: NephoscaleNodeDriver) -> None:
    body = load("POST_server_cloud_ID_initiator_restart.json")
    body["response"] = 302
    add(api, "POST", "/server/cloud/150211/initiator/restart/", body=body)
    with pytest.raises(ProviderError, match="response=302"):
        driver.reboot_node("150211")


def test_reboot_503_is_not_retried(api: responses.RequestsMock) -> None:
    driver = make_driver(max_retries=3)
    add(api, "POST", "/server/cloud/150211/initiator/restart/", status=503,
        body={"success": False, "subcode": 9, "message": "busy", "data": {}, "response": 503})
    with pytest.raises(ServerError):
        driver.reboot_node("150211")
    assert len(api.calls) == 1


# -- allowed actions --------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "state"), [
    ("start_node", NodeState.RUNNING),
    ("reboot_node", NodeState.STOPPED),
    ("stop_node", NodeState.STOPPED),
    ("reboot_node", NodeState.PENDING),
    ("destroy_node", NodeState.TERMINATED),
])
def test_not_allowed_in_state_raises_before_any_request(api: responses.RequestsMock,
                                                        driver: NephoscaleNodeDriver,
                                                        method: str, state: NodeState) -> None:
    stale = _node(driver, state)
    asked = confirm_state(driver, stale)
    with pytest.raises(ActionNotAllowedError) as info:
        getattr(driver, method)(stale)
    assert info.value.action == method and info.value.state == state.value
    assert len(api.calls) == 0
    assert asked == [stale.id]


def test_ex_force_sends_anyway(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "POST", "/server/cloud/150211/initiator/start/", "POST_server_cloud_ID_initiator_start.json")
    assert driver.start_node(_node(driver, NodeState.RUNNING), ex_force=True) is True


def test_node_actions_table(driver: NephoscaleNodeDriver) -> None:
    assert driver.node_actions(_node(driver, NodeState.RUNNING)) == {"reboot_node", "stop_node", "destroy_node"}
    assert driver.node_actions(_node(driver, NodeState.STOPPED)) == {"start_node", "destroy_node"}
    assert driver.node_actions(_node(driver, NodeState.UNKNOWN)) == {
        "reboot_node", "start_node", "stop_node", "destroy_node"}
    assert driver.node_actions(_node(driver, NodeState.PENDING)) == {"destroy_node"}
    assert driver.node_actions(_node(driver, NodeState.TERMINATED)) == frozenset()
    # Every state the state map produces has a row.
    for state in driver.NODE_STATE_MAP.values():
        assert state in driver.NODE_ACTIONS


def test_supports(driver: NephoscaleNodeDriver) -> None:
    for name in ("list_nodes", "create_node", "reboot_node", "start_node", "stop_node", "destroy_node",
                 "list_sizes", "list_images", "list_locations", "list_key_pairs", "create_key_pair",
                 "import_key_pair_from_string", "delete_key_pair", "verify_credentials", "ex_rename_node",
                 "ex_list_password_keys", "ex_create_password_key", "ex_delete_password_key"):
        assert driver.supports(name), name
    for name in ("ex_create_tag", "ex_tag_node", "ex_untag_node"):
        answer = driver.supports(name)
        assert not answer and "no tags" in answer.reason
    assert driver.features == {"create_node": ["ssh_key", "password"]}


# -- rename -----------------------------------------------------------------------------------


def test_rename(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "PUT", "/server/cloud/150211/", "PUT_server_cloud_ID.json")
    assert driver.ex_rename_node("150211", "build_02", hostname="build-02") is True
    request = api.calls[0].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(api.calls[0]) == {"name": "build_02", "hostname": "build-02"}


def test_rename_without_hostname_omits_it(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "PUT", "/server/cloud/150211/", "PUT_server_cloud_ID.json")
    driver.ex_rename_node(_node(driver, NodeState.RUNNING), "build-02")
    assert form(api.calls[0]) == {"name": "build-02"}


def test_rename_refused(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "PUT", "/server/cloud/150211/", "PUT_server_cloud_ID_400.json")
    with pytest.raises(ValidationError, match="hostname") as info:
        driver.ex_rename_node("150211", "build-02", hostname="b2")
    assert info.value.status == 400


@pytest.mark.parametrize(("name", "hostname"), [
    ("2fast", None), ("bad name", None), ("x" * 65, None), ("ends-", None),
    ("ok", "under_score"), ("ok", "a" * 16), ("ok", "-lead"),
])
def test_rename_validated_client_side(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                      name: str, hostname: str | None) -> None:
    with pytest.raises(ValidationError):
        driver.ex_rename_node("150211", name, hostname=hostname)
    assert len(api.calls) == 0
