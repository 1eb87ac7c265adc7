"""Issue 11, "what can I do with this server in its current state": every driver's state map
and action table against the providers' documented states, and refusal before any request.

For every provider status of the fact sheets the simulator serves, the driver gives the
documented NodeState and ``node_actions`` the documented set (tables in ``_ask_support``). An
action the state does not allow raises ActionNotAllowedError naming the state and the allowed
actions, and nothing but a read of the node's current state reaches the provider (the
simulator records every request it gets; the mocked runs use ``responses`` with no routes and
the node's state answered by ``get_node``). ``ex_force=True`` sends it anyway.
"""

from __future__ import annotations

import pytest
import responses
from _ask_support import (
    ACTION_TABLE,
    PROVIDERS,
    STATUS_TABLE,
    action_universe,
    call_action,
    simulator,
)
from support.fresh import confirm_state

from cloudkit import Node, NodeState, get_driver
from cloudkit.driver import NodeDriver
from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.errors import ActionNotAllowedError, CloudkitError, ProviderError
from cloudkit.testing.simulator import Simulator


def _check_refusal(err: ActionNotAllowedError, action: str, node: Node, allowed: frozenset[str]) -> None:
    assert err.action == action and err.node_id == node.id
    assert err.state == node.state.value
    assert err.allowed == sorted(allowed)
    text = str(err)
    assert f"while it is {node.state.value}" in text
    assert f"allowed in that state: {', '.join(sorted(allowed)) or 'none'}" in text
    assert "ex_force=True" in text


def _only_reads(requests: list) -> bool:
    """A refusal may read the node's state (once) but sends nothing that changes anything."""
    return len(requests) <= 2 and all(r.method == "GET" for r in requests)


def _mocked_driver(provider: str) -> NodeDriver:
    cls = get_driver(provider)
    if provider == "nephoscale":
        return cls("ask-user", "ask-password-7f3a9c2b", max_retries=0)
    return cls("ask-token-7f3a9c2b0123456789", max_retries=0)


# ------------------------------------------------------------------ the declared tables


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_state_the_map_can_give_has_its_documented_actions(provider: str) -> None:
    cls = get_driver(provider)
    driver = _mocked_driver(provider)
    reachable = set(cls.NODE_STATE_MAP.values()) | {NodeState.UNKNOWN}
    assert reachable <= set(ACTION_TABLE[provider]), "a state the driver produces has no documented actions"
    assert {cls.NODE_STATE_MAP.get(status, NodeState.UNKNOWN) for status in STATUS_TABLE[provider]} \
        == set(STATUS_TABLE[provider].values())
    for status, state in STATUS_TABLE[provider].items():
        assert cls.NODE_STATE_MAP.get(status, NodeState.UNKNOWN) is state, status
    for state, allowed in ACTION_TABLE[provider].items():
        node = Node("12345", "web1.example.com", state, [], [], driver)
        assert driver.node_actions(node) == allowed, state


@pytest.mark.parametrize("provider", [*PROVIDERS, "dummy"])
def test_the_issue_rules_hold_for_every_driver(provider: str) -> None:
    """start only when stopped; reboot and stop only when running; no power action while
    pending; nothing once terminated (except HostVirtual's still-billed package)."""
    driver = _mocked_driver(provider) if provider != "dummy" else DummyNodeDriver()

    def allowed(state: NodeState) -> frozenset[str]:
        return driver.node_actions(Node("12345", "web1.example.com", state, [], [], driver))

    known = [s for s in NodeState if s not in (NodeState.UNKNOWN, NodeState.ERROR)]
    assert [s for s in known if "start_node" in allowed(s)] == [NodeState.STOPPED]
    assert [s for s in known if "reboot_node" in allowed(s)] == [NodeState.RUNNING]
    assert [s for s in known if "stop_node" in allowed(s)] == [NodeState.RUNNING]
    assert not allowed(NodeState.PENDING) & {"reboot_node", "start_node", "stop_node"}
    if provider == "hostvirtual":
        assert allowed(NodeState.TERMINATED) == {"destroy_node", "ex_build_node"}
    else:
        assert allowed(NodeState.TERMINATED) == frozenset()
    if provider == "digitalocean":
        assert [s for s in known if "ex_resize_node" in allowed(s)] == [NodeState.STOPPED]


# ---------------------------------------------------------------------- on the simulator


@pytest.mark.parametrize("provider", PROVIDERS)
def test_simulated_statuses_give_the_documented_state_and_actions(provider: str) -> None:
    with simulator(provider) as sim:
        driver = sim.driver()
        node_id = sim.seed_nodes(1)[0]
        for status, state in STATUS_TABLE[provider].items():
            sim.set_node_status(node_id, status)
            node = driver.get_node(node_id)
            assert node.state is state, status
            assert driver.node_actions(node) == ACTION_TABLE[provider][state], status
            [listed] = driver.list_nodes()
            assert listed.state is state


def _refuse_everything_not_allowed(sim: Simulator, provider: str) -> int:
    driver = sim.driver()
    node_id = sim.seed_nodes(1)[0]
    refused = 0
    for status, state in STATUS_TABLE[provider].items():
        sim.set_node_status(node_id, status)
        node = driver.get_node(node_id)
        allowed = ACTION_TABLE[provider][state]
        for action in sorted(action_universe(provider) - allowed):
            sim.reset_requests()
            with pytest.raises(ActionNotAllowedError) as err:
                call_action(driver, provider, action, node)
            assert _only_reads(sim.requests), f"{action} in {status} sent {sim.requests}"
            _check_refusal(err.value, action, node, allowed)
            refused += 1
    return refused


@pytest.mark.parametrize("provider", PROVIDERS)
def test_illegal_actions_raise_before_any_request_leaves(provider: str) -> None:
    with simulator(provider) as sim:
        assert _refuse_everything_not_allowed(sim, provider) > 0


#: Where each provider's start request goes ("{id}" is the node id).
START_PATHS = {
    "digitalocean": "/v2/droplets/{id}/actions",
    "linode": "/v4/linode/instances/{id}/boot",
    "hostvirtual": "/cloud/server/start",
    "nephoscale": "/server/cloud/{id}/initiator/start/",
}


def _start_request(provider: str, node_id: str) -> tuple[str, str]:
    return "POST", START_PATHS[provider].format(id=node_id)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_start_on_a_running_node_is_refused_and_ex_force_sends_it(provider: str) -> None:
    with simulator(provider) as sim:
        driver = sim.driver(max_retries=0)
        node_id = sim.seed_nodes(1)[0]
        node = driver.get_node(node_id)
        assert node.state is NodeState.RUNNING
        sim.reset_requests()
        with pytest.raises(ActionNotAllowedError) as err:
            driver.start_node(node)
        assert _only_reads(sim.requests)
        assert str(err.value) == (
            f"start_node is not allowed on node {node_id} while it is running; allowed in that state: "
            f"{', '.join(sorted(ACTION_TABLE[provider][NodeState.RUNNING]))} "
            "(pass ex_force=True to send it anyway)")

        try:
            driver.start_node(node, ex_force=True)
        except ProviderError:
            pass  # the provider may refuse to start a running server; what matters is it was asked
        assert [(r.method, r.path) for r in sim.requests if r.method != "GET"] == [
            _start_request(provider, node_id)]
        if provider == "digitalocean":
            assert next(r for r in sim.requests if r.method != "GET").body == {"type": "power_on"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_id_string_carries_no_state_so_the_provider_decides(provider: str) -> None:
    """Only a Node says what state it is in; given a bare id, nothing is refused locally."""
    with simulator(provider) as sim:
        driver = sim.driver(max_retries=0)
        node_id = sim.seed_nodes(1)[0]
        sim.reset_requests()
        try:
            driver.start_node(node_id)  # type: ignore[arg-type]
        except ProviderError:
            pass  # the provider may refuse to start a running server
        assert [(r.method, r.path) for r in sim.requests] == [_start_request(provider, node_id)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_allowed_actions_go_through_on_the_simulator(provider: str) -> None:
    """The table is not just refusals: each allowed power action reaches the provider."""
    with simulator(provider) as sim:
        driver = sim.driver()
        node = driver.get_node(sim.seed_nodes(1)[0])
        assert "stop_node" in driver.node_actions(node)
        assert driver.stop_node(node) is True
        sim.set_node_status(node.id, next(s for s, st in STATUS_TABLE[provider].items() if st is NodeState.STOPPED))
        stopped = driver.get_node(node.id)
        assert "start_node" in driver.node_actions(stopped)
        sim.reset_requests()
        assert driver.start_node(stopped) is True
        assert len(sim.requests) == 1
        assert "destroy_node" in driver.node_actions(stopped)
        assert driver.destroy_node(stopped) is True


# ------------------------------------------------------------------ mocked, every action


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_illegal_action_is_refused_offline_and_ex_force_sends_it(provider: str) -> None:
    """Every (state, action) pair the table forbids, including the ``ex_`` actions: refused
    with nothing sent; with ``ex_force=True`` the request leaves (and fails: no route answers)."""
    driver = _mocked_driver(provider)
    pairs = 0
    for state, allowed in ACTION_TABLE[provider].items():
        for action in sorted(action_universe(provider) - allowed):
            node = Node("12345", "web1.example.com", state, [], [], driver)
            asked = confirm_state(driver, node)  # the API confirms the state the object holds
            with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
                with pytest.raises(ActionNotAllowedError) as err:
                    call_action(driver, provider, action, node)
                assert len(mock.calls) == 0, f"{action} in {state.value} sent a request"
                assert asked == ["12345"], f"{action} in {state.value} was refused without asking the API"
                _check_refusal(err.value, action, node, allowed)
            del driver.get_node  # type: ignore[method-assign]  # undo the instance override set above
            with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
                with pytest.raises(CloudkitError) as forced:
                    call_action(driver, provider, action, node, ex_force=True)
                assert not isinstance(forced.value, ActionNotAllowedError)
                assert len(mock.calls) >= 1, f"{action} with ex_force in {state.value} sent nothing"
            pairs += 1
    assert pairs >= 10


# --------------------------------------------------------------------------------- dummy


def test_dummy_driver_checks_states_too() -> None:
    dummy = DummyNodeDriver(ex_never_boot=True)
    pending = dummy.create_node("p-1", "small", "debian-12")
    assert pending.state is NodeState.PENDING and dummy.node_actions(pending) == {"destroy_node"}
    for action in ("reboot_node", "start_node", "stop_node"):
        with pytest.raises(ActionNotAllowedError) as err:
            getattr(dummy, action)(pending)
        _check_refusal(err.value, action, pending, frozenset({"destroy_node"}))
    assert dummy.get_node(pending.id).state is NodeState.PENDING  # nothing happened

    running = DummyNodeDriver()
    node = running.create_node("r-1", "small", "debian-12")
    assert node.state is NodeState.RUNNING
    with pytest.raises(ActionNotAllowedError):
        running.start_node(node)
    assert running.stop_node(node) is True
    stopped = running.get_node(node.id)
    for action in ("reboot_node", "stop_node"):
        with pytest.raises(ActionNotAllowedError):
            getattr(running, action)(stopped)
    assert running.reboot_node(stopped, ex_force=True) is True
    assert running.get_node(node.id).state is NodeState.RUNNING
    assert running.destroy_node(node) is True
