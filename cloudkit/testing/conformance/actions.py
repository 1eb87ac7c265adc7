"""Conformance checks on create_node, node actions (decided on fresh state) and verify_credentials.
"""

from __future__ import annotations

import pytest

from cloudkit.driver import ACTIONS
from cloudkit.errors import (
    ActionNotAllowedError,
    InvalidCredsError,
)
from cloudkit.models import Node, NodeState
from cloudkit.testing.conformance.base import ConformanceBase, _fix
from cloudkit.testing.fixtures import UnmatchedRequestError, mock_routes


class ActionChecks(ConformanceBase):
    """Creating nodes, actions and credentials."""

    # -- create and actions -----------------------------------------------------------------

    def test_create_node_returns_a_node(self) -> None:
        driver = self._driver()
        if self.create_node_kwargs is None:
            if not driver.supports("create_node"):
                return
            pytest.fail("create_node_kwargs is not set"
                        + _fix("set create_node_kwargs to arguments the fixtures answer, e.g. "
                               "{'name': 'web-1', 'size': 's-1', 'image': 'debian-12'}"))
        with mock_routes(self._host(driver), self.routes()):
            node = driver.create_node(**dict(self.create_node_kwargs))
        assert isinstance(node, Node), f"create_node() returned {type(node).__name__}, not a Node"
        assert isinstance(node.state, NodeState), (
            f"created node state {node.state!r} is not a NodeState" + _fix("use self._state(provider_status)"))
        assert isinstance(node.id, str) and node.id, "created node must have a non-empty str id"
        assert node.driver is driver, "created node must carry driver=self"

    @pytest.mark.parametrize("action", ACTIONS)
    def test_node_action_returns_true(self, action: str) -> None:
        driver = self._driver()
        node = Node("conformance-1", "conformance", NodeState.RUNNING, [], [], driver)
        if not self._supported(driver, action, node):
            return
        if self.actions is not None and action not in self.actions:
            return
        with mock_routes(self._host(driver), self.routes()):
            node = driver.list_nodes()[0]
            try:
                result = getattr(driver, action)(node, ex_force=True)
            except UnmatchedRequestError as exc:
                pytest.fail(f"{action}() sent a request the routes do not answer: {exc}"
                            + _fix(f"add a route answering {action}, or set `actions` to the actions your "
                                   "routes answer"))
        assert result is True, (f"{action}() returned {result!r}"
                                + _fix("return True when the provider accepted the action; raise otherwise"))

    @pytest.mark.parametrize("action", ACTIONS)
    def test_action_decided_on_fresh_state(self, action: str) -> None:
        """A node object whose cached state forbids ``action`` is never refused on that stale
        state: the driver asks the API, refuses (before sending the action) only when the
        state it reports now forbids the action, and sends the action otherwise."""
        driver = self._driver()
        if not driver.supports(action):
            return
        forbidden = [s for s in NodeState
                     if action not in driver.node_actions(Node("c-1", "c", s, [], [], driver))]
        if not forbidden:
            return  # every state allows it: nothing can be refused
        stale_state = NodeState.TERMINATED if NodeState.TERMINATED in forbidden else forbidden[0]
        with mock_routes(self._host(driver), self.routes()) as mock:
            listed = driver.list_nodes()[0]
            fresh_allows = action in driver.node_actions(listed)
            before = len(mock.calls)
            stale = Node(listed.id, listed.name, stale_state, [], [], driver)
            try:
                getattr(driver, action)(stale)
                outcome: BaseException | None = None
            except (ActionNotAllowedError, UnmatchedRequestError) as exc:
                outcome = exc
            except Exception as exc:
                pytest.fail(f"{action}() on a node cached as {stale_state.value} raised {type(exc).__name__}: "
                            f"{exc}" + _fix(f"call self._check_action(node, {action!r}, ex_force) first"))
            sent = [call.request.method for call in mock.calls[before:]]
        if fresh_allows:
            assert not isinstance(outcome, ActionNotAllowedError), (
                f"{action}() was refused on the state cached in the node object ({stale_state.value}) "
                f"although the API reports {listed.state.value}, which allows it"
                + _fix("decide with self._check_action(node, action, ex_force): it fetches the node when "
                       "the cached state forbids the action"))
            if self.actions is None or action in self.actions:
                assert not isinstance(outcome, UnmatchedRequestError), (
                    f"{action}() sent a request the routes do not answer: {outcome}")
            assert stale.state == listed.state, (
                f"{action}() did not refresh the caller's node object from the API"
                + _fix("use self._check_action, which refreshes the node in place"))
            return
        assert isinstance(outcome, ActionNotAllowedError), (
            f"{action}() on a node the API reports as {listed.state.value} was not refused"
            + _fix(f"call self._check_action(node, {action!r}, ex_force) first"))
        assert all(method in ("GET", "HEAD") for method in sent), (
            f"{action}() sent {sent} before refusing: only reads may be sent to learn the state")

    def test_verify_credentials(self) -> None:
        driver = self._driver()
        if not self._supported(driver, "verify_credentials"):
            return
        with mock_routes(self._host(driver), self.routes()):
            result = driver.verify_credentials()
        assert result is True, (f"verify_credentials() returned {result!r} with good credentials"
                                + _fix("return True after one cheap authenticated request"))
        try:
            bad = self._run(lambda d: d.verify_credentials(), self._everything(401), max_retries=0)
        except InvalidCredsError:
            return
        except Exception as exc:
            pytest.fail(f"verify_credentials() on HTTP 401 raised {type(exc).__name__}: {exc}"
                        + _fix("let InvalidCredsError propagate"))
        pytest.fail(f"verify_credentials() returned {bad!r} on HTTP 401"
                    + _fix("the contract is True or an exception saying why; let InvalidCredsError propagate"))
