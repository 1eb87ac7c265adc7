"""Issue 11, "does this provider support X": ``supports()`` agrees with what the methods do.

By introspection, for every built-in driver and every contract method and ``ex_`` extra (its
own, the ones other drivers have, and the ones it declares the API cannot do): when
``supports()`` says no, calling the method raises NotSupportedError (a NotImplementedError)
carrying the same reason, without sending anything, or the driver has no such attribute at all;
when it says yes, the method is the driver's own implementation, not the base class's
unsupported stub and not a body that only raises. Then real calls on the simulator for every
supported contract method, and ``cloudkit providers`` against ``capability_matrix()``.
"""

from __future__ import annotations

import ast
import inspect
import io
import json
import textwrap
import time
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import responses
from _ask_support import PROVIDERS, simulator

from cloudkit import NodeAuthSSHKey, NodeState, get_driver
from cloudkit.capabilities import CORE_CAPABILITIES, capability_matrix
from cloudkit.cli import main
from cloudkit.driver import NodeDriver
from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.errors import ActionNotAllowedError, NotSupportedError
from cloudkit.sshkeys import generate_key_pair
from cloudkit.testing.simulator import Simulator

DRIVERS = (*PROVIDERS, "dummy")
#: Contract methods the base class implements generically on top of others.
GENERIC = ("get_node", "get_key_pair", "import_key_pair_from_file", "wait_until_running", "deploy_node")
PUBLIC_KEY = generate_key_pair("ed25519", comment="ask@cloudkit")[1]
OTHER_KEY = generate_key_pair("ed25519", comment="other@cloudkit")[1]


def _driver(provider: str) -> NodeDriver:
    cls = get_driver(provider)
    if provider == "nephoscale":
        return cls("ask-user", "ask-password-7f3a9c2b", max_retries=0)
    if provider == "dummy":
        return DummyNodeDriver()
    return cls("ask-token-7f3a9c2b0123456789", max_retries=0)


def _all_capabilities(cls: type[NodeDriver]) -> list[str]:
    extras = {name for row in capability_matrix() for name in row.capabilities if name.startswith("ex_")}
    extras |= {name for name in dir(cls) if name.startswith("ex_") and callable(getattr(cls, name))}
    return [*CORE_CAPABILITIES, *GENERIC, *sorted(extras | set(cls.UNSUPPORTED))]


def _only_raises(function: Callable[..., Any]) -> bool:
    """True when a function's body (docstring aside) is a single ``raise``, ``pass`` or ``...``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    definition = tree.body[0]
    assert isinstance(definition, ast.FunctionDef)
    body = [node for node in definition.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str))]
    if len(body) != 1:
        return False
    only = body[0]
    return isinstance(only, (ast.Raise, ast.Pass)) or (
        isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant) and only.value.value is Ellipsis)


def _placeholders(function: Callable[..., Any]) -> list[Any]:
    """``None`` for every required positional parameter after ``self``."""
    params = list(inspect.signature(function).parameters.values())[1:]
    return [None for p in params
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _assert_agrees(driver: NodeDriver, capability: str) -> str:
    """Check one capability of one driver; return "yes", "raises" or "absent"."""
    cls = type(driver)
    answer = driver.supports(capability)
    method = getattr(cls, capability, None)
    if answer:
        assert answer.reason == ""
        assert callable(method), capability
        assert not getattr(method, "_cloudkit_unsupported", False), f"{capability} is the unsupported stub"
        assert not _only_raises(method), f"{cls.__name__}.{capability} only raises"
        return "yes"
    assert answer.reason, f"{cls.__name__}.supports({capability!r}) gives no reason"
    if method is None:
        # Another driver's extra: this one has no such attribute and never claimed it.
        assert capability.startswith("ex_") and capability not in cls.UNSUPPORTED
        assert f"has no {capability}" in answer.reason
        return "absent"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        with pytest.raises(NotSupportedError) as err:
            getattr(driver, capability)(*_placeholders(method))
        assert len(mock.calls) == 0
    assert isinstance(err.value, NotImplementedError)
    assert str(err.value) == err.value.reason == answer.reason
    assert err.value.method == capability and err.value.driver == driver.name
    return "raises"


@pytest.mark.parametrize("provider", DRIVERS)
def test_supports_agrees_with_every_method(provider: str) -> None:
    driver = _driver(provider)
    outcomes = {cap: _assert_agrees(driver, cap) for cap in _all_capabilities(type(driver))}
    assert all(outcomes[cap] == "yes" for cap in (*CORE_CAPABILITIES, *GENERIC)), outcomes
    declared = type(driver).UNSUPPORTED
    assert all(outcomes[cap] == "raises" for cap in declared), "a declared gap must be callable and raise"


@pytest.mark.parametrize("provider", ["hostvirtual", "nephoscale"])
def test_tagless_providers_declare_every_tag_extra_with_a_reason(provider: str) -> None:
    driver = _driver(provider)
    for capability in ("ex_create_tag", "ex_tag_node", "ex_untag_node", "ex_list_tags", "ex_delete_tag"):
        answer = driver.supports(capability)
        assert not answer and "no tags" in answer.reason, capability


class _Partial(NodeDriver):
    """A third-party style driver that declares one contract gap and one extra gap, and
    simply lacks list_sizes (and the rest of the catalogue)."""

    name = "Partial"
    type = "partial-ask"
    UNSUPPORTED: ClassVar[dict[str, str]] = {
        "start_node": "Partial servers cannot be powered on through the API",
        "ex_snapshot_node": "Partial has no snapshots",
    }

    def list_nodes(self, tag: str | None = None) -> list[Any]:
        return []

    def reboot_node(self, node: Any, ex_force: bool = False) -> bool:
        self._check_action(node, "reboot_node", ex_force)
        return True

    def stop_node(self, node: Any, ex_force: bool = False) -> bool:
        self._check_action(node, "stop_node", ex_force)
        return True

    def destroy_node(self, node: Any, ex_force: bool = False) -> bool:
        self._check_action(node, "destroy_node", ex_force)
        return True


def test_the_base_answers_for_declared_and_missing_methods() -> None:
    driver = _Partial("k", base_url="http://127.0.0.1:9")
    assert driver.supports("list_nodes")
    assert driver.supports("start_node") == (False, "Partial servers cannot be powered on through the API")
    with pytest.raises(NotImplementedError, match="cannot be powered on"):
        driver.start_node("1")  # type: ignore[arg-type]
    answer = driver.supports("ex_snapshot_node")
    assert not answer and answer.reason == "Partial has no snapshots"
    with pytest.raises(NotSupportedError, match="Partial has no snapshots"):
        driver.ex_snapshot_node("1", "snap")  # type: ignore[attr-defined]
    assert driver.supports("list_sizes") == (False, "the Partial driver does not implement list_sizes")
    with pytest.raises(NotSupportedError, match=r"does not implement list_sizes\(\)"):
        driver.list_sizes()
    assert not driver.supports("ex_made_up") and "has no ex_made_up" in driver.supports("ex_made_up").reason
    # node_actions leaves out what the driver cannot do at all
    assert driver.node_actions(_running(driver)) == {"reboot_node", "stop_node", "destroy_node"}
    assert driver.node_actions(_stopped(driver)) == {"destroy_node"}
    driver.get_node = lambda node_id: _stopped(driver)  # type: ignore[method-assign]  # the API agrees
    with pytest.raises(ActionNotAllowedError, match="allowed in that state: destroy_node "):
        driver.stop_node(_stopped(driver))


def _running(driver: NodeDriver) -> Any:
    from cloudkit import Node

    return Node("1", "n", NodeState.RUNNING, [], [], driver)


def _stopped(driver: NodeDriver) -> Any:
    from cloudkit import Node

    return Node("1", "n", NodeState.STOPPED, [], [], driver)


# ---------------------------------------------------------------------- on the simulator

CREATE = {
    "digitalocean": ("web-1", {}),
    "linode": ("web-1", {}),
    "hostvirtual": ("web1.example.com", {}),
    "nephoscale": ("web-1", {"ex_poll_interval": 0.05}),
}


def _settle(driver: NodeDriver, node_id: str, state: NodeState) -> Any:
    deadline = time.monotonic() + 10
    while True:
        node = driver.get_node(node_id)
        locked = node.extra.get("locked")
        if node.state is state and not locked:
            return node
        assert time.monotonic() < deadline, f"node {node_id} stayed {node.state.value}"
        time.sleep(0.02)


def _exercise(driver: NodeDriver, sim: Simulator) -> set[str]:
    """Call every supported contract method for real; return the names called."""
    called: set[str] = set()

    def use(name: str) -> bool:
        if driver.supports(name):
            called.add(name)
            return True
        return False

    assert use("verify_credentials") and driver.verify_credentials() is True
    sizes = driver.list_sizes() if use("list_sizes") else []
    images = driver.list_images() if use("list_images") else []
    locations = driver.list_locations() if use("list_locations") else []
    assert sizes and images and locations
    name, extra = CREATE[sim.provider]
    assert use("create_node")
    node = driver.create_node(name, sizes[0], images[0], locations[0], auth=NodeAuthSSHKey(PUBLIC_KEY), **extra)
    assert use("list_nodes") and [n.id for n in driver.list_nodes()] == [node.id]
    node = _settle(driver, node.id, NodeState.RUNNING)
    if use("reboot_node"):
        assert driver.reboot_node(node) is True
        node = _settle(driver, node.id, NodeState.RUNNING)
    if use("stop_node"):
        assert driver.stop_node(node) is True
        node = _settle(driver, node.id, NodeState.STOPPED)
    if use("start_node"):
        assert driver.start_node(node) is True
        node = _settle(driver, node.id, NodeState.RUNNING)
    if use("import_key_pair_from_string"):
        imported = driver.import_key_pair_from_string("ask-imported", OTHER_KEY)
        if use("list_key_pairs"):
            assert "ask-imported" in [k.name for k in driver.list_key_pairs()]
        if use("delete_key_pair"):
            assert driver.delete_key_pair(imported) is True
    if use("create_key_pair"):
        made = driver.create_key_pair("ask-made")
        assert made.private_key and "PRIVATE KEY" in made.private_key
        assert driver.delete_key_pair(made) is True
    for extra_name in sorted(n for n in dir(driver) if n.startswith("ex_list_")):
        needs = [p for p in inspect.signature(getattr(driver, extra_name)).parameters.values()
                 if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if driver.supports(extra_name) and not needs:  # ex_list_disks(node) is tested on fixtures
            assert isinstance(getattr(driver, extra_name)(), list)
            called.add(extra_name)
    if use("destroy_node"):
        assert driver.destroy_node(node) is True
        assert sim.node_count() == 0
    return called


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_supported_contract_method_works_on_the_simulator(provider: str) -> None:
    with simulator(provider) as sim:
        driver = sim.driver()
        called = _exercise(driver, sim)
        assert called >= {c for c in CORE_CAPABILITIES if driver.supports(c)}
        # and what it says it cannot do fails the declared way, without a request
        sim.reset_requests()
        for capability, reason in type(driver).UNSUPPORTED.items():
            with pytest.raises(NotSupportedError) as err:
                getattr(driver, capability)("12345", "web")
            assert str(err.value) == reason
        assert sim.requests == []


# ------------------------------------------------------------------------------ the CLI


def _providers_json(*extra: str) -> Any:
    out, err = io.StringIO(), io.StringIO()
    code = main(["providers", "-o", "json", *extra], env={"HOME": "/nonexistent-ask-home"}, stdout=out,
                stderr=err, stdin=io.StringIO(""))
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_cloudkit_providers_json_is_the_capability_matrix() -> None:
    shown = _providers_json()
    assert shown == [row.as_dict() for row in capability_matrix()]
    for row in shown:
        driver = _driver(row["provider"])
        assert row["name"] == driver.name
        assert row["create_auth"] == list(type(driver).features.get("create_node", []))
        for capability, cell in row["capabilities"].items():
            answer = driver.supports(capability)
            assert cell == {"supported": answer.supported, "reason": answer.reason}, (row["provider"], capability)


def test_cloudkit_providers_for_one_provider() -> None:
    [row] = _providers_json("--provider", "hostvirtual")
    assert row == capability_matrix(["hostvirtual"])[0].as_dict()
    assert row["capabilities"]["ex_tag_node"] == {
        "supported": False, "reason": "HostVirtual's API has no tags (Node.tags is always empty)"}
