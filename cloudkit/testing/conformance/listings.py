"""Conformance checks on declarations and listings: what a driver declares, and what list_nodes,
get_node, list_sizes, list_images, list_locations and list_key_pairs return.
"""

from __future__ import annotations

import datetime as _dt
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from cloudkit.driver import ACTIONS
from cloudkit.errors import (
    NotFoundError,
    ValidationError,
)
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.redact import SECRET_PARAMS
from cloudkit.testing.conformance.base import _AUTH_FEATURES, ConformanceBase, _fix
from cloudkit.testing.fixtures import mock_routes


class ListingChecks(ConformanceBase):
    """Declarations and listings."""

    # -- declarations -----------------------------------------------------------------------

    def test_declarations(self) -> None:
        driver = self._driver(max_retries=0)
        assert driver.name and driver.name != "Base", (
            "the driver class has no `name`" + _fix('set name = "Acme Cloud" (human-readable)'))
        assert driver.type, "the driver class has no `type`" + _fix('set type = "acme" (the get_driver name)')
        features = driver.features.get("create_node", [])
        unknown = set(features) - _AUTH_FEATURES
        assert not unknown, (f"features['create_node'] has unknown values {sorted(unknown)}"
                             + _fix(f"use only {sorted(_AUTH_FEATURES)}"))
        for status, state in driver.NODE_STATE_MAP.items():
            assert isinstance(status, str), (
                f"NODE_STATE_MAP key {status!r} is {type(status).__name__}"
                + _fix("key the map by the provider's status text"))
            assert isinstance(state, NodeState), (
                f"NODE_STATE_MAP[{status!r}] is {state!r} ({type(state).__name__}), not a NodeState"
                + _fix(f"map to NodeState members, e.g. {status!r}: NodeState.RUNNING"))
        for state, allowed in driver.NODE_ACTIONS.items():
            assert isinstance(state, NodeState), (
                f"NODE_ACTIONS key {state!r} is not a NodeState" + _fix("key NODE_ACTIONS by NodeState members"))
            assert isinstance(allowed, (frozenset, set)), (
                f"NODE_ACTIONS[{state}] is {type(allowed).__name__}" + _fix("use frozenset({...}) of method names"))
            for action in allowed:
                known = action in ACTIONS or (action.startswith("ex_") and callable(getattr(driver, action, None)))
                assert known, (f"NODE_ACTIONS[{state}] names {action!r}, which is neither one of {list(ACTIONS)} "
                               "nor an ex_ method of the driver" + _fix("fix the spelling or add the method"))
        assert driver.supports("list_nodes"), "list_nodes is part of the contract every driver implements"

    # -- listings ---------------------------------------------------------------------------

    def test_list_nodes_returns_nodes(self) -> None:
        driver = self._driver()
        with mock_routes(self._host(driver), self.routes()):
            nodes = driver.list_nodes()
        assert isinstance(nodes, list), f"list_nodes() returned {type(nodes).__name__}, not a list"
        assert nodes, "the fixtures' listing gave no node" + _fix("serve a listing with nodes in routes()")
        for node in nodes:
            assert isinstance(node, Node), f"list_nodes() item {node!r} is not a cloudkit Node"
            assert isinstance(node.state, NodeState), (
                f"node {node.id} state is {node.state!r} ({type(node.state).__name__}), not a NodeState"
                + _fix("build states with self._state(provider_status), which maps through NODE_STATE_MAP; "
                       "never assign a provider's status text to node.state"))
            if not self.allow_unknown_states:
                assert node.state is not NodeState.UNKNOWN, (
                    f"node {node.id} has state UNKNOWN: its provider status is missing from NODE_STATE_MAP"
                    + _fix("add the status to NODE_STATE_MAP (or set allow_unknown_states = True when the "
                           "fixture holds an unmapped status on purpose)"))
            assert isinstance(node.name, str), f"node {node.id} name {node.name!r} must be a str"
            for label, ips in (("public_ips", node.public_ips), ("private_ips", node.private_ips)):
                assert isinstance(ips, list) and all(isinstance(ip, str) for ip in ips), (
                    f"node {node.id} {label} is {ips!r}" + _fix("use lists of address strings (split_ips helps)"))
            assert isinstance(node.extra, dict), f"node {node.id} extra must be a dict"
            assert isinstance(node.tags, list) and all(isinstance(t, str) for t in node.tags), (
                f"node {node.id} tags {node.tags!r} must be a list of str" + _fix("use [] where there are none"))
            assert node.created_at is None or (
                isinstance(node.created_at, _dt.datetime) and node.created_at.tzinfo is not None), (
                f"node {node.id} created_at {node.created_at!r} must be an aware datetime or None"
                + _fix("use cloudkit.parsing.parse_datetime"))
            assert node.size is None or isinstance(node.size, NodeSize), f"node {node.id} size must be a NodeSize"
            assert node.image is None or isinstance(node.image, NodeImage), (
                f"node {node.id} image must be a NodeImage")
        self._check_ids(nodes, "node")
        self._check_bound(nodes, driver, "node")

    def test_list_nodes_returns_every_node_exactly_once(self) -> None:
        if not self.expected_node_ids:
            pytest.fail("expected_node_ids is empty"
                        + _fix("set expected_node_ids to every node id in the fixtures' (multi-page) listing"))
        nodes, sent = self._traced(lambda d: d.list_nodes())
        ids = [n.id for n in nodes]
        seen: dict[tuple[str, str, tuple[tuple[str, str], ...]], int] = {}
        for method, url in sent:
            parts = urlsplit(url)
            query = tuple(sorted((k, "<secret>" if k.lower() in SECRET_PARAMS else v)
                                 for k, v in parse_qsl(parts.query, keep_blank_values=True)))
            key = (method.upper(), parts.path, query)
            seen[key] = seen.get(key, 0) + 1
        repeated = [f"{m} {p}{'?' + urlencode(q, safe='<>') if q else ''} ({n} times)"
                    for (m, p, q), n in seen.items() if n > 1]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        assert not duplicates, (
            f"list_nodes() returned node(s) {duplicates} more than once"
            + (f"; it asked for the same page repeatedly: {', '.join(repeated)}" if repeated else "")
            + _fix("send each page's number (Connection.paginate does) and fetch each page once; "
                   "stop after the last page"))
        assert not repeated, (f"list_nodes() sent the same request more than once: {', '.join(repeated)}"
                              + _fix("fetch each page exactly once"))
        missing = sorted(self.expected_node_ids - set(ids))
        assert not missing, (f"list_nodes() missed {missing} (got {sorted(set(ids))})"
                             + _fix("follow every page (Connection.paginate with the API's page count, "
                                    "or Connection.follow_links with its next link)"))
        extra = sorted(set(ids) - self.expected_node_ids)
        assert not extra, (f"list_nodes() returned ids {extra} that expected_node_ids does not list"
                           + _fix("add them to expected_node_ids, or check the driver's id field"))
        if self.list_nodes_pages is not None:
            method, path = self._list_route()
            pages = sum(1 for (m, p, _q) in seen if m == method and p == path)
            assert pages == self.list_nodes_pages, (
                f"list_nodes() asked for {pages} distinct page(s) of {path}; the fixtures hold "
                f"{self.list_nodes_pages}" + _fix("read the page count from the first page and fetch each page once"))

    def test_get_node_returns_that_node(self) -> None:
        first = self._run(lambda d: d.list_nodes())[0]
        node = self._run(lambda d: d.get_node(first.id))
        assert isinstance(node, Node) and node.id == first.id, (
            f"get_node({first.id!r}) returned {node!r}" + _fix("return the Node with the id asked for"))
        assert isinstance(node.state, NodeState), f"get_node() state {node.state!r} is not a NodeState"

    def test_get_node_missing_raises_not_found(self) -> None:
        missing = self.missing_node_id
        try:
            result = self._run(lambda d: d.get_node(missing), self._everything(404), max_retries=0)
        except NotFoundError:
            return
        except ValidationError as exc:
            pytest.fail(f"get_node({missing!r}) was refused before sending: {exc}"
                        + _fix("set missing_node_id to an id your driver accepts (the API answers 404 for it)"))
        except Exception as exc:
            pytest.fail(f"get_node() of a missing node (HTTP 404) raised {type(exc).__name__}: {exc}"
                        + _fix("let the Response class map 404 to NotFoundError and let it propagate"))
        pytest.fail(f"get_node() of a missing node (HTTP 404 everywhere) returned {result!r}"
                    + _fix("never turn a 404 into a value; let NotFoundError propagate"))

    def test_list_sizes(self) -> None:
        driver = self._driver()
        if not self._supported(driver, "list_sizes"):
            return
        with mock_routes(self._host(driver), self.routes()):
            sizes = driver.list_sizes()
        assert isinstance(sizes, list) and sizes, "list_sizes() must return a non-empty list on the fixtures"
        assert all(isinstance(s, NodeSize) for s in sizes), "list_sizes() must return NodeSize objects"
        self._check_ids(sizes, "size")
        self._check_bound(sizes, driver, "size")
        for size in sizes:
            for attr, unit in (("ram", "MB"), ("disk", "GB")):
                value = getattr(size, attr)
                assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, (
                    f"size {size.id} {attr} {value!r} must be a non-negative int ({unit})"
                    + _fix(f"convert the API's value to {unit} with int()"))
            assert not 0 < size.ram < 64, (
                f"size {size.id} ram is {size.ram}: that looks like GB, NodeSize.ram is MB"
                + _fix("multiply GB by 1024"))
            assert size.price is None or (isinstance(size.price, float) and size.price >= 0), (
                f"size {size.id} price {size.price!r} must be hourly USD as float, or None"
                + _fix("convert price strings with float(); use cloudkit.pricing for APIs without prices"))
            assert size.bandwidth is None or (
                isinstance(size.bandwidth, (int, float)) and not isinstance(size.bandwidth, bool)), (
                f"size {size.id} bandwidth {size.bandwidth!r} must be a number (GB/month) or None")
            assert size.vcpus is None or (isinstance(size.vcpus, int) and not isinstance(size.vcpus, bool)), (
                f"size {size.id} vcpus {size.vcpus!r} must be an int or None")

    def test_list_images(self) -> None:
        driver = self._driver()
        if not self._supported(driver, "list_images"):
            return
        with mock_routes(self._host(driver), self.routes()):
            images = driver.list_images()
        assert isinstance(images, list) and images, "list_images() must return a non-empty list on the fixtures"
        assert all(isinstance(i, NodeImage) for i in images), "list_images() must return NodeImage objects"
        assert all(isinstance(i.name, str) for i in images), "every image name must be a str"
        self._check_ids(images, "image")
        self._check_bound(images, driver, "image")

    def test_list_locations(self) -> None:
        driver = self._driver()
        if not self._supported(driver, "list_locations"):
            return
        with mock_routes(self._host(driver), self.routes()):
            locations = driver.list_locations()
        assert isinstance(locations, list) and locations, (
            "list_locations() must return a non-empty list on the fixtures")
        assert all(isinstance(loc, NodeLocation) for loc in locations), (
            "list_locations() must return NodeLocation objects")
        for loc in locations:
            assert isinstance(loc.name, str), f"location {loc.id} name must be a str"
            assert loc.country is None or isinstance(loc.country, str), f"location {loc.id} country must be str/None"
        self._check_ids(locations, "location")
        self._check_bound(locations, driver, "location")

    def test_list_key_pairs(self) -> None:
        driver = self._driver()
        if not self._supported(driver, "list_key_pairs"):
            return
        with mock_routes(self._host(driver), self.routes()):
            pairs = driver.list_key_pairs()
            assert isinstance(pairs, list), f"list_key_pairs() returned {type(pairs).__name__}, not a list"
            for pair in pairs:
                assert isinstance(pair, KeyPair), f"list_key_pairs() item {pair!r} is not a KeyPair"
                assert isinstance(pair.name, str) and isinstance(pair.public_key, str), (
                    f"key pair {pair!r}: name and public_key must be str")
                assert pair.id is None or isinstance(pair.id, str), f"key pair {pair.name} id must be str or None"
                assert pair.private_key is None, (
                    f"key pair {pair.name} carries a private key" + _fix("stored keys never have a private half"))
            if pairs:
                one = driver.get_key_pair(pairs[0].name)
                assert isinstance(one, KeyPair) and one.name == pairs[0].name, (
                    f"get_key_pair({pairs[0].name!r}) returned {one!r}")
