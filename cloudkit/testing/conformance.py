"""The driver conformance suite: one pytest base class that checks a driver keeps the contract.

Point it at a driver factory and a fixture set; every built-in driver runs it, and so
should a third-party one::

    from pathlib import Path
    from cloudkit.testing.conformance import DriverConformance
    from cloudkit.testing.fixtures import FixtureSet, Route

    FX = FixtureSet(Path(__file__).parent / "fixtures")

    class TestAcmeConformance(DriverConformance):
        expected_node_ids = {"101", "102", "103"}      # every node across all listing pages
        create_node_kwargs = {"name": "web-1", "size": "s-1", "image": "debian-12"}

        def make_driver(self, **kwargs):
            return AcmeNodeDriver("acme-test-token-1234", **kwargs)

        def routes(self):
            return [FX.route("GET", "/v1/servers", "GET_v1_servers_page1.json", query={"page": "1"}),
                    ...]

        def error_body(self, status):                  # the provider's error body for a status
            return {"error": {"message": f"failure {status}"}}

        def error_message(self, status):               # the message the driver must surface
            return f"failure {status}"

What it checks: the type each contract method returns (lists of models, ``bool`` for
actions, ``True`` from ``verify_credentials``); every id is a ``str``; states are
``NodeState`` members mapped through ``NODE_STATE_MAP``; sizes carry ram (MB), disk (GB)
and an hourly price or None; ``create_node`` returns a Node; a listing returns every node
exactly once and asks for each page once; actions refuse a state ``NODE_ACTIONS`` forbids
before any request; HTTP 401, 403, 404, 429, 5xx, malformed bodies and network failures
raise the matching cloudkit errors; and no credential given to the driver shows up in a
repr, a log line, an error message or a model's ``extra``.

The host the mocks answer on, the secrets and the listing's first request are read from
the driver itself; override ``base_url``, ``secrets`` or ``list_nodes_route`` only when
that guess is wrong. Provider quirks have switches: ``malformed_bodies`` (a bare ``[]`` is a
valid listing), ``listing_404_is_empty``, ``missing_node_id``, ``allow_unknown_states``,
``actions``. Every failure ends with "How to fix:".
"""

from __future__ import annotations

import base64
import datetime as _dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest

from cloudkit.driver import ACTIONS, NodeDriver
from cloudkit.errors import (
    ActionNotAllowedError,
    CloudkitError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from cloudkit.models import KeyPair, Node, NodeImage, NodeLocation, NodeSize, NodeState
from cloudkit.redact import SECRET_PARAMS
from cloudkit.testing.fixtures import Route, UnmatchedRequestError, mock_routes

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
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_MIN_SECRET = 8


def _fix(hint: str) -> str:
    return f"\n  How to fix: {hint}"


def _mask(text: str, secret: str, width: int = 160) -> str:
    """An excerpt of ``text`` around ``secret``, with the secret itself masked."""
    at = text.find(secret)
    start = max(0, at - width // 2)
    piece = text[start:at + len(secret) + width // 2].replace(secret, "<SECRET>")
    return " ".join(piece.split())


def _caller(method: str) -> Callable[[NodeDriver], Any]:
    def call(driver: NodeDriver) -> Any:
        return getattr(driver, method)()

    return call


class _Capture(logging.Handler):
    """Collects every log record (all loggers, DEBUG and up) while a check runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = record.getMessage()
        except (TypeError, ValueError):
            line = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            line += f" | {record.exc_info[1]!r}"
        self.lines.append(f"{record.name}: {line}")


@contextmanager
def _capture_logs() -> Iterator[_Capture]:
    root = logging.getLogger()
    handler = _Capture()
    old_level = root.level
    ck = logging.getLogger("cloudkit")
    old_ck = ck.level
    root.setLevel(logging.DEBUG)
    ck.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        ck.setLevel(old_ck)


class DriverConformance:
    """Subclass as ``Test<Provider>Conformance``; set ``expected_node_ids``,
    ``create_node_kwargs`` and the three methods ``make_driver``, ``routes``, ``error_body``."""

    #: Scheme and host the mocks answer on; "" means the driver's own (``connection.base_url``).
    base_url: ClassVar[str] = ""
    #: Extra secrets to look for; the key and secret the driver was built with are always checked.
    secrets: ClassVar[Sequence[str]] = ()
    #: (method, path) of the request list_nodes sends first; None: learnt by watching list_nodes().
    list_nodes_route: ClassVar[tuple[str, str] | None] = None
    #: Every node id the fixtures' listing holds across all its pages.
    expected_node_ids: ClassVar[set[str]] = set()
    #: How many pages the fixtures' node listing has (None: not checked).
    list_nodes_pages: ClassVar[int | None] = None
    #: Arguments for a create_node call the fixtures answer (None: fails unless create_node is unsupported).
    create_node_kwargs: ClassVar[Mapping[str, Any] | None] = None
    #: Node actions the routes answer (None: every action the driver supports).
    actions: ClassVar[Sequence[str] | None] = None
    #: Set True when the provider answers an empty listing with 404 (HostVirtual does): a 404 on
    #: list_nodes() must then give [], and the not-found check runs on get_node() only.
    listing_404_is_empty: ClassVar[bool] = False
    #: A well-formed id of a node that does not exist (answered with 404 in the not-found check).
    missing_node_id: ClassVar[str] = "999999999"
    #: Set True when the fixtures hold a provider status on purpose that maps to NodeState.UNKNOWN.
    allow_unknown_states: ClassVar[bool] = False
    #: Bodies that are not what the API promises (body, content type); each must be refused on list_nodes.
    malformed_bodies: ClassVar[Sequence[tuple[bytes, str]]] = (
        (b'{"servers": [{"id": 1', "application/json"),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (b"[]", "application/json"),
        (b'"just a string"', "application/json"),
    )

    # -- what a subclass provides ---------------------------------------------------------

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        """Build the driver under test; pass ``kwargs`` (``max_retries=0``, ...) on to its class."""
        raise NotImplementedError("define make_driver(self, **kwargs) in your conformance test class")

    def routes(self) -> list[Route]:
        """Fresh routes answering the happy-path calls from fixtures."""
        raise NotImplementedError("define routes(self) in your conformance test class")

    def error_body(self, status: int) -> Any:
        """A provider-shaped error body for ``status`` (bytes, str or JSON-able)."""
        return {"message": f"error {status}"}

    def error_message(self, status: int) -> str | None:
        """The provider message ``error_body(status)`` carries, which the raised error must
        show (proves the Response class's ``parse_error`` is wired); None: not checked."""
        return None

    # -- helpers ----------------------------------------------------------------------------

    def _driver(self, **kwargs: Any) -> NodeDriver:
        driver = self.make_driver(**kwargs)
        if not isinstance(driver, NodeDriver):
            pytest.fail(f"make_driver() returned {type(driver).__name__}, not a cloudkit NodeDriver"
                        + _fix("return an instance of your driver class"))
        if "max_retries" in kwargs and driver.connection.retry.max_retries != kwargs["max_retries"]:
            pytest.fail("make_driver() ignored its keyword arguments (asked for max_retries="
                        f"{kwargs['max_retries']}, the driver has {driver.connection.retry.max_retries})"
                        + _fix("def make_driver(self, **kwargs): return MyDriver(KEY, **kwargs)"))
        return driver

    def _host(self, driver: NodeDriver) -> str:
        if self.base_url:
            return self.base_url
        parts = urlsplit(driver.connection.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def _run(self, call: Callable[[NodeDriver], Any], routes: Iterable[Route] | None = None,
             **driver_kwargs: Any) -> Any:
        driver = self._driver(**driver_kwargs)
        with mock_routes(self._host(driver), list(routes) if routes is not None else self.routes()):
            return call(driver)

    def _traced(self, call: Callable[[NodeDriver], Any],
                routes: Iterable[Route] | None = None) -> tuple[Any, list[tuple[str, str]]]:
        """Run ``call`` on the happy routes; also return the requests made (method, URL)."""
        driver = self._driver()
        with mock_routes(self._host(driver), list(routes) if routes is not None else self.routes()) as mock:
            result = call(driver)
            sent = [(str(c.request.method), str(c.request.url)) for c in mock.calls]
        return result, sent

    def _list_route(self) -> tuple[str, str]:
        if self.list_nodes_route is not None:
            return self.list_nodes_route
        _, sent = self._traced(lambda d: d.list_nodes())
        if not sent:
            pytest.fail("list_nodes() sent no request, so the error checks have nothing to fail"
                        + _fix("list_nodes() must ask the API (or set list_nodes_route)"))
        method, url = sent[0]
        return method.upper(), urlsplit(url).path

    def _error_route(self, status: int) -> Route:
        method, path = self._list_route()
        body = self.error_body(status)
        return Route(method, path, body, status=status, headers={"Retry-After": "0"} if status == 429 else {},
                     content_type=self._error_content_type() if isinstance(body, (bytes, str)) else None)

    def _error_content_type(self) -> str:
        # A text error body is served with the content type the driver's fixtures use.
        for route in self.routes():
            ctype = route.response_headers().get("Content-Type")
            if ctype:
                return ctype
        return "application/json"

    def _everything(self, status: int) -> list[Route]:
        """Routes answering every request with ``status`` and the provider's error body."""
        body = self.error_body(status)
        ctype = self._error_content_type() if isinstance(body, (bytes, str)) else None
        return [Route(m, "^/", body, status=status, content_type=ctype) for m in _METHODS]

    def _secrets(self, driver: NodeDriver) -> list[tuple[str, str]]:
        """(label, value) of every secret and the encodings it travels in."""
        found: list[tuple[str, str]] = []
        for label, value in (("key", driver.key), ("secret", driver.secret)):
            if isinstance(value, str) and value:
                found.append((f"the {label} given to make_driver()", value))
        found += [("a value in `secrets`", s) for s in self.secrets if s]
        for label, value in list(found):
            quoted = quote(value, safe="")
            if quoted != value:
                found.append((f"{label}, URL-encoded", quoted))
        if isinstance(driver.key, str) and isinstance(driver.secret, str) and driver.key and driver.secret:
            pair = base64.b64encode(f"{driver.key}:{driver.secret}".encode()).decode()
            found.append(("the Basic auth credentials", pair))
        return found

    @staticmethod
    def _check_ids(items: Sequence[Any], what: str) -> None:
        for item in items:
            assert isinstance(item.id, str) and item.id, (
                f"{what} id {item.id!r} is {type(item.id).__name__}, not a non-empty str"
                + _fix("models turn ids into str in __post_init__; do not overwrite .id afterwards"))

    @staticmethod
    def _check_bound(items: Sequence[Any], driver: NodeDriver, what: str) -> None:
        for item in items:
            assert item.driver is driver, (
                f"{what} {item.id!r} has driver={item.driver!r}, not the driver that returned it"
                + _fix("pass driver=self when building models, so node.reboot() and friends work"))

    def _supported(self, driver: NodeDriver, method: str, *args: Any) -> bool:
        """True when the driver implements ``method``; else check it raises NotImplementedError."""
        if driver.supports(method):
            return True
        with mock_routes(self._host(driver), []), pytest.raises(NotImplementedError):
            getattr(driver, method)(*args)
        return False

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

    # -- errors -----------------------------------------------------------------------------

    @pytest.mark.parametrize("status", sorted(ERROR_STATUSES))
    def test_error_status_maps_to_cloudkit_error(self, status: int) -> None:
        expected = ERROR_STATUSES[status]
        error = self._error_route(status)
        if status == 404 and self.listing_404_is_empty:
            result = self._run(lambda d: d.list_nodes(), [error, *self.routes()], max_retries=0)
            assert result == [], (f"listing_404_is_empty is set, but a 404 on list_nodes() gave {result!r}"
                                  + _fix("return [] for the provider's empty-listing 404, or unset the flag"))
            return
        try:
            result = self._run(lambda d: d.list_nodes(), [error, *self.routes()], max_retries=0)
        except expected as exc:
            assert exc.status == status, (f"{expected.__name__}.status is {exc.status}, expected {status}"
                                          + _fix("do not re-raise provider errors with another status"))
            if status == 429:
                wait = getattr(exc, "retry_after", None)
                assert wait is None or isinstance(wait, float), (
                    f"RateLimitError.retry_after is {wait!r}" + _fix("return seconds as float or None"))
            message = self.error_message(status)
            if message is not None:
                assert message in str(exc), (
                    f"HTTP {status} raised {expected.__name__} {str(exc)!r}, which does not show the provider's "
                    f"message {message!r}" + _fix("return (message, code) from your Response class's parse_error()"))
            return
        except MalformedResponseError as exc:
            pytest.fail(f"HTTP {status} raised MalformedResponseError: {exc}; expected {expected.__name__}"
                        + _fix("the error answer was parsed as data: do not make Response.success() accept "
                               "error statuses; let the Response class map them (cloudkit.response.STATUS_ERRORS)"))
        except Exception as exc:
            pytest.fail(f"HTTP {status} raised {type(exc).__name__}: {exc}; expected {expected.__name__}"
                        + _fix("let the Response class map statuses (cloudkit.response.STATUS_ERRORS) "
                               "and do not catch ProviderError in the driver"))
        pytest.fail(f"HTTP {status} on list_nodes() raised nothing and returned {result!r}; expected "
                    f"{expected.__name__}" + _fix("never turn an error status into a value (e.g. an empty list); "
                                                  "let the cloudkit error propagate (if your provider answers an "
                                                  "empty listing with 404, set listing_404_is_empty = True)"))

    def test_malformed_bodies_raise_malformed_response_error(self) -> None:
        method, path = self._list_route()
        problems: list[str] = []
        for body, content_type in self.malformed_bodies:
            route = Route(method, path, body, content_type=content_type)
            try:
                result = self._run(lambda d: d.list_nodes(), [route, *self.routes()], max_retries=0)
            except MalformedResponseError:
                continue
            except Exception as exc:
                problems.append(f"body {body[:40]!r} raised {type(exc).__name__}: {exc}")
            else:
                problems.append(f"body {body[:40]!r} was accepted as a node listing ({len(result)} nodes)")
        assert not problems, ("malformed bodies must raise MalformedResponseError:\n  " + "\n  ".join(problems)
                              + _fix("check the top-level shape of every body (cloudkit.parsing.as_dict/"
                                     "as_list/req) and wrap parsing functions with @parser(...); if one of "
                                     "these bodies is a valid listing for your API (a bare [] array), "
                                     "override malformed_bodies"))

    def test_network_failure_raises_network_error(self) -> None:
        import requests

        method, path = self._list_route()
        route = Route(method, path, raises=requests.exceptions.ConnectionError("connection reset by peer"))
        try:
            result = self._run(lambda d: d.list_nodes(), [route, *self.routes()], max_retries=0)
        except NetworkError:
            return
        except Exception as exc:
            pytest.fail(f"a dropped connection raised {type(exc).__name__}: {exc}; expected NetworkError"
                        + _fix("send requests through self.connection.request(), which translates requests' "
                               "exceptions; never call requests directly"))
        pytest.fail(f"a dropped connection returned {result!r}" + _fix("let NetworkError propagate"))

    # -- secrets ----------------------------------------------------------------------------

    def test_no_secret_in_reprs_logs_or_errors(self) -> None:
        driver = self._driver()
        secrets = self._secrets(driver)
        assert secrets, ("make_driver() built a driver without credentials"
                         + _fix("give the driver a test key (and secret) as a user would"))
        short = [value for _, value in secrets if len(value) < _MIN_SECRET]
        assert not short, (f"a test credential is shorter than {_MIN_SECRET} characters, too short to search for"
                           + _fix("use distinctive test credentials such as 'acme-test-token-7f3a9c'"))
        shown: list[tuple[str, str]] = []
        with _capture_logs() as logs:
            shown += [("repr(driver)", repr(driver)), ("str(driver)", str(driver)),
                      ("repr(driver.connection)", repr(driver.connection))]
            calls: list[tuple[str, Callable[[NodeDriver], Any]]] = [("list_nodes", lambda d: d.list_nodes())]
            for name in ("list_sizes", "list_images", "list_locations", "list_key_pairs"):
                if driver.supports(name):
                    calls.append((name, _caller(name)))
            if self.create_node_kwargs is not None:
                kwargs = dict(self.create_node_kwargs)
                calls.append(("create_node", lambda d: [d.create_node(**kwargs)]))
            for name, call in calls:
                for item in self._run(call):
                    shown += [(f"repr of a {name}() result", repr(item)), (f"str of a {name}() result", str(item)),
                              (f"extra of a {name}() result", repr(getattr(item, "extra", "")))]
            for status in (*sorted(ERROR_STATUSES), 400):
                try:
                    self._run(lambda d: d.list_nodes(), [self._error_route(status), *self.routes()], max_retries=0)
                except CloudkitError as exc:
                    shown += [(f"the HTTP {status} error message", str(exc)),
                              (f"repr of the HTTP {status} error", repr(exc)),
                              (f"the HTTP {status} error's body excerpt", str(getattr(exc, "body", "")))]
            import requests

            method, path = self._list_route()
            drop = Route(method, path, raises=requests.exceptions.ConnectionError("connection reset"))
            try:
                self._run(lambda d: d.list_nodes(), [drop, *self.routes()], max_retries=0)
            except CloudkitError as exc:
                shown += [("the network error message", str(exc)), ("repr of the network error", repr(exc))]
        shown += [("a log line", line) for line in logs.lines]
        leaks = [f"{label} shows {where}: {_mask(text, value)!r}"
                 for label, value in secrets for where, text in shown if value in text]
        assert not leaks, (
            "a credential given to the driver appears where users and logs can see it:\n  "
            + "\n  ".join(dict.fromkeys(leaks))
            + _fix("keep credentials out of __repr__, extra and messages; log URLs only through "
                   "Connection (it redacts); never echo request headers or query strings"))
