"""The driver conformance suite: one pytest base class that checks a driver keeps the contract.

Point it at a driver factory and a fixture set; every built-in driver runs it, and so
should a third-party one::

    from cloudkit.testing.conformance import DriverConformance
    from cloudkit.testing.fixtures import FixtureSet, Route

    FX = FixtureSet(Path(__file__).parent / "fixtures")

    class TestAcmeConformance(DriverConformance):
        base_url = "https://api.acme.example"
        secrets = ("acme-token-1234",)
        list_nodes_route = ("GET", "/v1/servers")
        expected_node_ids = {"101", "102", "103"}
        create_node_kwargs = {"name": "web-1", "size": "small", "image": "debian-12"}

        def make_driver(self, **kwargs):
            return AcmeNodeDriver("acme-token-1234", **kwargs)

        def routes(self):
            return [Route("GET", "/v1/servers", FX.path("servers.json")), ...]

        def error_body(self, status):
            return {"error": {"message": f"failure {status}"}}

Each check fails with a message that says what to fix in the driver.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from cloudkit.driver import NodeDriver
from cloudkit.errors import (
    CloudkitError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.testing.fixtures import Route, mock_routes

__all__ = ["ERROR_STATUSES", "DriverConformance"]

#: HTTP status → the exception every driver must raise for it.
ERROR_STATUSES: dict[int, type[ProviderError]] = {
    401: InvalidCredsError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitError,
    500: ServerError,
    503: ServerError,
}

_AUTH_FEATURES = {"ssh_key", "password", "generates_password"}


def _fix(hint: str) -> str:
    return f"\n  How to fix: {hint}"


class DriverConformance:
    """Subclass as ``Test<Provider>Conformance`` and set the attributes below."""

    #: Scheme and host the driver talks to (its real API host; requests are mocked).
    base_url: ClassVar[str] = ""
    #: Every secret the factory gives the driver (token, password, API key).
    secrets: ClassVar[Sequence[str]] = ()
    #: (method, path) of the request list_nodes sends first; used for the error checks.
    list_nodes_route: ClassVar[tuple[str, str]] = ("GET", "/")
    #: Every node id the fixtures' listing holds across all its pages.
    expected_node_ids: ClassVar[set[str]] = set()
    #: Arguments for a create_node call the fixtures answer (None: not checked).
    create_node_kwargs: ClassVar[Mapping[str, Any] | None] = None
    #: Bodies that are not what the API promises (body, content type), all must be refused.
    malformed_bodies: ClassVar[Sequence[tuple[bytes, str]]] = (
        (b'{"servers": [{"id": 1', "application/json"),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (b"[]", "application/json"),
        (b'"just a string"', "application/json"),
    )

    # -- what a subclass provides ---------------------------------------------------------

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        """Build the driver under test with the secrets above (kwargs: max_retries=0, ...)."""
        raise NotImplementedError("set make_driver() in your conformance test class")

    def routes(self) -> list[Route]:
        """Fresh routes answering the happy-path calls from fixtures."""
        raise NotImplementedError("set routes() in your conformance test class")

    def error_body(self, status: int) -> Any:
        """A provider-shaped error body for ``status`` (bytes, str or JSON-able)."""
        return {"message": f"error {status}"}

    # -- helpers ----------------------------------------------------------------------------

    def _run(self, call: Callable[[NodeDriver], Any], routes: Iterable[Route] | None = None,
             **driver_kwargs: Any) -> Any:
        driver = self.make_driver(**driver_kwargs)
        with mock_routes(self.base_url, list(routes) if routes is not None else self.routes()):
            return call(driver)

    def _all_secrets(self) -> list[str]:
        found = [s for s in self.secrets if s]
        if len(found) >= 2:
            pair = f"{found[0]}:{found[1]}".encode()
            found.append(base64.b64encode(pair).decode())
        return found

    @staticmethod
    def _check_ids(items: Sequence[Any], what: str) -> None:
        for item in items:
            assert isinstance(item.id, str), (
                f"{what} id {item.id!r} is {type(item.id).__name__}, not str"
                + _fix("models turn ids into str in __post_init__; do not overwrite .id afterwards"))

    # -- the checks -------------------------------------------------------------------------

    def test_declarations(self) -> None:
        driver = self.make_driver()
        assert driver.name and driver.name != "Base", "set a human-readable `name` on the driver class"
        assert driver.type, "set `type` (the registry name) on the driver class"
        features = driver.features.get("create_node", [])
        unknown = set(features) - _AUTH_FEATURES
        assert not unknown, (f"features['create_node'] has unknown values {sorted(unknown)}"
                             + _fix(f"use only {sorted(_AUTH_FEATURES)}"))
        for status, state in driver.NODE_STATE_MAP.items():
            assert isinstance(state, NodeState), (
                f"NODE_STATE_MAP[{status!r}] is {state!r}, not a NodeState" + _fix("map to NodeState members"))
        assert driver.supports("list_nodes"), "list_nodes is part of the contract every driver implements"

    def test_list_nodes_returns_nodes(self) -> None:
        nodes = self._run(lambda d: d.list_nodes())
        assert isinstance(nodes, list), f"list_nodes() returned {type(nodes).__name__}, not a list"
        assert nodes, "the fixtures' listing should hold at least one node"
        for node in nodes:
            assert isinstance(node, Node), f"list_nodes() item {node!r} is not a cloudkit Node"
            assert isinstance(node.state, NodeState), (
                f"node {node.id} state is {node.state!r} ({type(node.state).__name__}), not a NodeState"
                + _fix("map provider statuses through NODE_STATE_MAP / self._state(status)"))
            assert all(isinstance(ip, str) for ip in node.public_ips + node.private_ips), (
                f"node {node.id} addresses must be lists of str")
            assert isinstance(node.extra, dict), f"node {node.id} extra must be a dict"
            assert isinstance(node.tags, list), f"node {node.id} tags must be a list"
        self._check_ids(nodes, "node")

    def test_list_nodes_returns_every_node_exactly_once(self) -> None:
        if not self.expected_node_ids:
            pytest.fail("set expected_node_ids to every node id in the fixtures' (multi-page) listing")
        nodes = self._run(lambda d: d.list_nodes())
        ids = [n.id for n in nodes]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        assert not duplicates, (f"list_nodes() returned {duplicates} more than once"
                                + _fix("fetch each page once; stop when the last page is reached"))
        missing = sorted(self.expected_node_ids - set(ids))
        assert not missing, (f"list_nodes() missed {missing}"
                             + _fix("follow every page (Connection.paginate / follow_links)"))

    def test_get_node_returns_that_node(self) -> None:
        first = self._run(lambda d: d.list_nodes())[0]
        node = self._run(lambda d: d.get_node(first.id))
        assert isinstance(node, Node) and node.id == first.id, (
            f"get_node({first.id!r}) returned {node!r}")

    def test_list_sizes(self) -> None:
        sizes = self._run(lambda d: d.list_sizes())
        assert sizes and all(isinstance(s, NodeSize) for s in sizes), "list_sizes() must return NodeSize objects"
        self._check_ids(sizes, "size")
        for size in sizes:
            assert isinstance(size.ram, int) and not isinstance(size.ram, bool), (
                f"size {size.id} ram {size.ram!r} must be an int (MB)")
            assert isinstance(size.disk, int) and not isinstance(size.disk, bool), (
                f"size {size.id} disk {size.disk!r} must be an int (GB)")
            assert size.price is None or isinstance(size.price, float), (
                f"size {size.id} price {size.price!r} must be hourly USD as float, or None"
                + _fix("convert price strings with float(); use cloudkit.pricing for APIs without prices"))

    def test_list_images(self) -> None:
        images = self._run(lambda d: d.list_images())
        assert images and all(isinstance(i, NodeImage) for i in images), "list_images() must return NodeImage"
        self._check_ids(images, "image")

    def test_list_locations(self) -> None:
        locations = self._run(lambda d: d.list_locations())
        assert locations and all(isinstance(loc, NodeLocation) for loc in locations), (
            "list_locations() must return NodeLocation objects")
        self._check_ids(locations, "location")

    def test_list_key_pairs(self) -> None:
        driver = self.make_driver()
        if not driver.supports("list_key_pairs"):
            with pytest.raises(NotImplementedError):
                driver.list_key_pairs()
            return
        pairs = self._run(lambda d: d.list_key_pairs())
        assert all(isinstance(p, KeyPair) for p in pairs), "list_key_pairs() must return KeyPair objects"
        assert all(p.private_key is None for p in pairs), "stored key pairs never carry a private key"

    def test_create_node_returns_a_node(self) -> None:
        if self.create_node_kwargs is None:
            pytest.fail("set create_node_kwargs to arguments the fixtures answer")
        node = self._run(lambda d: d.create_node(**dict(self.create_node_kwargs or {})))
        assert isinstance(node, Node), f"create_node() returned {type(node).__name__}, not a Node"
        assert isinstance(node.state, NodeState), f"created node state {node.state!r} is not a NodeState"
        assert isinstance(node.id, str) and node.id, "created node must have a str id"

    @pytest.mark.parametrize("status", sorted(ERROR_STATUSES))
    def test_error_status_maps_to_cloudkit_error(self, status: int) -> None:
        expected = ERROR_STATUSES[status]
        method, path = self.list_nodes_route
        error = Route(method, path, self.error_body(status), status=status,
                      headers={"Retry-After": "0"} if status == 429 else {})
        try:
            self._run(lambda d: d.list_nodes(), [error, *self.routes()], max_retries=0)
        except expected as exc:
            assert exc.status == status, f"{expected.__name__}.status is {exc.status}, expected {status}"
            return
        except Exception as exc:
            pytest.fail(f"HTTP {status} raised {type(exc).__name__}: {exc}; expected {expected.__name__}"
                        + _fix("let the Response class map statuses (see cloudkit.response.STATUS_ERRORS) "
                               "and do not catch ProviderError in the driver"))
        pytest.fail(f"HTTP {status} on list_nodes() raised nothing; expected {expected.__name__}"
                    + _fix("never swallow error statuses"))

    def test_malformed_bodies_raise_malformed_response_error(self) -> None:
        method, path = self.list_nodes_route
        problems: list[str] = []
        for body, content_type in self.malformed_bodies:
            route = Route(method, path, body, content_type=content_type)
            try:
                self._run(lambda d: d.list_nodes(), [route, *self.routes()], max_retries=0)
            except MalformedResponseError:
                continue
            except Exception as exc:
                problems.append(f"body {body[:40]!r} raised {type(exc).__name__}: {exc}")
            else:
                problems.append(f"body {body[:40]!r} was accepted as a node listing")
        assert not problems, ("malformed bodies must raise MalformedResponseError:\n  " + "\n  ".join(problems)
                              + _fix("check the top-level shape of every body (cloudkit.parsing.as_dict/"
                                     "as_list/req) and wrap parsing functions with @parser(...)"))

    def test_no_secret_in_reprs_logs_or_errors(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        secrets = self._all_secrets()
        assert secrets, "set `secrets` to the credentials make_driver() uses"
        shown: list[str] = []
        driver = self.make_driver()
        shown += [repr(driver), str(driver), repr(driver.connection)]
        for call in (lambda d: d.list_nodes(), lambda d: d.list_sizes()):
            for item in self._run(call):
                shown += [repr(item), str(item)]
        method, path = self.list_nodes_route
        for status in (401, 500):
            try:
                self._run(lambda d: d.list_nodes(), [Route(method, path, self.error_body(status), status=status),
                                                     *self.routes()], max_retries=0)
            except CloudkitError as exc:
                shown += [str(exc), repr(exc), str(getattr(exc, "body", ""))]
        shown += [r.getMessage() for r in caplog.records]
        text = "\n".join(shown)
        for secret in secrets:
            assert secret not in text, (
                "a secret given to the driver appears in a repr, log line or error message"
                + _fix("keep credentials out of __repr__/extra/messages; log only redacted URLs"))
